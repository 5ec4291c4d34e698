// Just enough of Elasticsearch's search to answer the dashboards' Vega requests over documents in memory: the
// queries and aggregations the specs use, with Elasticsearch's response shapes (bucket keys, key_as_string,
// ordering, size limits). Anything else throws, so that a spec using more than this is noticed rather than drawn
// from wrong data.
import type { estypes } from '@elastic/elasticsearch';

type Doc = Record<string, unknown>;
type Query = estypes.QueryDslQueryContainer;
type Aggs = Record<string, Record<string, any>>;

export function valueAt(doc: Doc, path: string): unknown {
  if (path in doc) return doc[path];
  let value: unknown = doc;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Doc)[part];
  }
  return value;
}

const present = (v: unknown) => v !== undefined && v !== null;
const asTime = (v: unknown) => (typeof v === 'number' ? v : Date.parse(String(v)));

export function matches(doc: Doc, query: Query): boolean {
  const [kind, body] = Object.entries(query)[0] as [string, any];
  switch (kind) {
    case 'match_all':
      return true;
    case 'bool': {
      const all = (list: Query | Query[] | undefined) => ([] as Query[]).concat(list ?? []);
      const should = all(body.should);
      const minimumShould = body.minimum_should_match ?? (body.must || body.filter ? 0 : should.length > 0 ? 1 : 0);
      return all(body.must).every((q) => matches(doc, q)) && all(body.filter).every((q) => matches(doc, q)) &&
        !all(body.must_not).some((q) => matches(doc, q)) && should.filter((q) => matches(doc, q)).length >= minimumShould;
    }
    case 'exists':
      return present(valueAt(doc, body.field));
    case 'term': {
      const [field, spec] = Object.entries(body)[0] as [string, any];
      const wanted = typeof spec === 'object' && spec !== null ? spec.value : spec;
      return valueAt(doc, field) === wanted;
    }
    case 'terms': {
      const [field, values] = Object.entries(body)[0] as [string, unknown[]];
      return values.includes(valueAt(doc, field));
    }
    case 'match_phrase': {
      const [field, spec] = Object.entries(body)[0] as [string, any];
      return valueAt(doc, field) === (typeof spec === 'object' ? spec.query : spec);
    }
    case 'range': {
      const [field, r] = Object.entries(body)[0] as [string, any];
      const v = asTime(valueAt(doc, field));
      return (r.gte === undefined || v >= asTime(r.gte)) && (r.lte === undefined || v <= asTime(r.lte)) &&
        (r.gt === undefined || v > asTime(r.gt)) && (r.lt === undefined || v < asTime(r.lt));
    }
    default:
      throw new Error(`es-search: query ${kind} is not implemented`);
  }
}

const FIXED_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
function intervalMs(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (!m) throw new Error(`es-search: interval ${text} is not implemented`);
  return Number(m[1]) * FIXED_UNITS[m[2]];
}

function metric(kind: string, spec: any, docs: Doc[]): { value: number | null } {
  const values = docs.map((d) => valueAt(d, spec.field)).filter(present).map(Number);
  switch (kind) {
    case 'sum': return { value: values.reduce((a, b) => a + b, 0) };
    case 'max': return { value: values.length ? Math.max(...values) : null };
    case 'min': return { value: values.length ? Math.min(...values) : null };
    case 'avg': return { value: values.length ? values.reduce((a, b) => a + b, 0) / values.length : null };
    case 'cardinality': return { value: new Set(docs.map((d) => valueAt(d, spec.field)).filter(present)).size };
    default: throw new Error(`es-search: aggregation ${kind} is not implemented`);
  }
}

/** Orders buckets as terms/multi_terms do: by a sub-aggregation's value or by count, ties by key ascending. */
function ordered(buckets: any[], order: Record<string, 'asc' | 'desc'> | undefined) {
  const [by, direction] = Object.entries(order ?? { _count: 'desc' })[0];
  const value = (b: any) => (by === '_count' ? b.doc_count : by === '_key' ? b.key : b[by].value ?? -Infinity);
  return buckets.sort((a, b) => {
    const d = value(a) < value(b) ? -1 : value(a) > value(b) ? 1 : 0;
    return (direction === 'asc' ? d : -d) || String(a.key).localeCompare(String(b.key));
  });
}

function groups(docs: Doc[], keyOf: (d: Doc) => unknown[] | undefined) {
  const out = new Map<string, { key: unknown[]; docs: Doc[] }>();
  for (const d of docs) {
    const key = keyOf(d);
    if (!key) continue;
    const id = JSON.stringify(key);
    const group = out.get(id) ?? { key, docs: [] };
    group.docs.push(d);
    out.set(id, group);
  }
  return [...out.values()];
}

export function aggregate(aggs: Aggs, docs: Doc[]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [name, container] of Object.entries(aggs)) {
    const { aggs: sub, ...rest } = container;
    const [kind, spec] = Object.entries(rest)[0] as [string, any];
    const bucket = (key: unknown, members: Doc[], extra: Record<string, unknown> = {}) => ({ key, ...extra, doc_count: members.length, ...(sub ? aggregate(sub, members) : {}) });
    switch (kind) {
      case 'filter': {
        const members = docs.filter((d) => matches(d, spec));
        result[name] = { doc_count: members.length, ...(sub ? aggregate(sub, members) : {}) };
        break;
      }
      case 'terms': {
        const found = groups(docs, (d) => (present(valueAt(d, spec.field)) ? [valueAt(d, spec.field)] : undefined));
        const buckets = ordered(found.map((g) => bucket(g.key[0], g.docs)), spec.order).slice(0, spec.size ?? 10);
        result[name] = { doc_count_error_upper_bound: 0, sum_other_doc_count: 0, buckets };
        break;
      }
      case 'multi_terms': {
        const fields: string[] = spec.terms.map((t: { field: string }) => t.field);
        const found = groups(docs, (d) => {
          const key = fields.map((f) => valueAt(d, f));
          return key.every(present) ? key : undefined;
        });
        const buckets = ordered(found.map((g) => bucket(g.key, g.docs, { key_as_string: g.key.join('|') })), spec.order).slice(0, spec.size ?? 10);
        result[name] = { doc_count_error_upper_bound: 0, sum_other_doc_count: 0, buckets };
        break;
      }
      case 'date_histogram': {
        if (!spec.fixed_interval) throw new Error('es-search: date_histogram needs fixed_interval');
        const step = intervalMs(spec.fixed_interval);
        const floor = (t: number) => Math.floor(t / step) * step;
        const byKey = new Map<number, Doc[]>();
        for (const d of docs) {
          const key = floor(asTime(valueAt(d, spec.field)));
          byKey.set(key, [...(byKey.get(key) ?? []), d]);
        }
        const keys = [...byKey.keys()];
        if (spec.extended_bounds) keys.push(floor(spec.extended_bounds.min), floor(spec.extended_bounds.max));
        const buckets = [];
        if (keys.length) {
          for (let key = Math.min(...keys); key <= Math.max(...keys); key += step) {
            const members = byKey.get(key) ?? [];
            if (members.length >= (spec.min_doc_count ?? 1)) buckets.push(bucket(key, members, { key_as_string: new Date(key).toISOString() }));
          }
        }
        result[name] = { buckets };
        break;
      }
      default:
        result[name] = metric(kind, spec, docs);
    }
  }
  return result;
}

/** A search request body (query, aggs; hits sorted by one field) answered as Elasticsearch's _search would. */
export function search(body: { query?: Query; aggs?: Aggs; size?: number; sort?: Record<string, 'asc' | 'desc'>[] }, docs: Doc[]) {
  const matched = body.query ? docs.filter((d) => matches(d, body.query!)) : docs;
  let hits: { _source: Doc }[] = [];
  if (body.size) {
    if (body.aggs) throw new Error('es-search: hits and aggregations in one request are not implemented');
    const [[field, order]] = Object.entries(body.sort?.[0] ?? { '@timestamp': 'desc' });
    const sign = order === 'desc' ? -1 : 1;
    hits = [...matched].sort((a, b) => sign * (asTime(valueAt(a, field)) - asTime(valueAt(b, field)))).slice(0, body.size).map((d) => ({ _source: d }));
  }
  return { took: 1, timed_out: false, hits: { total: { value: matched.length, relation: 'eq' }, max_score: null, hits }, aggregations: aggregate(body.aggs ?? {}, matched) };
}
