/**
 * The index patterns of the two index templates setup installs (both always, at one priority, whatever
 * elasticsearch.indexMode says, so that switching modes needs no setup), and the check that they cannot overlap:
 * Elasticsearch refuses an index template whose patterns can match a name another template of the same priority
 * matches. Both patterns are a literal prefix and `*`, so two overlap exactly when one prefix starts with the other.
 */
export interface IndexSettings {
  dataStream: string;
  dailyIndexPrefix: string;
  /** output.file.indexPrefix: the indices the file output's actions name, which the daily template must map. */
  fileIndexPrefix: string;
}

/** The data stream's template matches its name (and names that extend it). */
export const dataStreamPattern = (dataStream: string) => `${dataStream}*`;
/** The daily template matches prefix + a year (flow-2024.01.31): the `2` keeps `flow-*` data streams out of it. */
export const dailyPattern = (prefix: string) => `${prefix}2*`;

const literal = (pattern: string) => pattern.slice(0, -1);
const overlap = (a: string, b: string) => literal(a).startsWith(literal(b)) || literal(b).startsWith(literal(a));

/** What is wrong with the settings, as [configuration key, message] pairs; none when the templates are sound. */
export function indexSettingsProblems(s: IndexSettings): [string, string][] {
  const problems: [string, string][] = [];
  const stream = dataStreamPattern(s.dataStream);
  const daily = dailyPattern(s.dailyIndexPrefix);
  if (overlap(stream, daily)) {
    // Name the key whose value reaches into the other's names.
    const key = literal(daily).startsWith(s.dataStream) ? 'elasticsearch.dailyIndexPrefix' : 'elasticsearch.dataStream';
    problems.push([key, `the daily indices' template pattern ${daily} (elasticsearch.dailyIndexPrefix "${s.dailyIndexPrefix}") overlaps the data stream's ${stream} (elasticsearch.dataStream "${s.dataStream}"), which Elasticsearch refuses: choose a prefix and a name neither of which starts with the other`]);
  }
  const file = dailyPattern(s.fileIndexPrefix);
  if (overlap(file, stream)) {
    problems.push(['output.file.indexPrefix', `the file output's indices ${file} would fall under the data stream's template ${stream} (elasticsearch.dataStream "${s.dataStream}"): loading the files would create data streams`]);
  } else if (s.fileIndexPrefix !== s.dailyIndexPrefix) {
    problems.push(['output.file.indexPrefix', `must equal elasticsearch.dailyIndexPrefix ("${s.dailyIndexPrefix}"), so that the daily template setup installs maps the indices the files name`]);
  }
  return problems;
}
