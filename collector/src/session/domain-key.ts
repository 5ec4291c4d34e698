// The text key of an exporter session's observation domain, `<exporter key>|<domain>`, which the template and
// sequence state are keyed by. Looked up per message: built once per pair and reused, so that the hot path
// allocates no key (and the Map lookups hash a string whose hash V8 has kept). Bounded like the exporters.
const MAX_EXPORTERS = 65_536;
const MAX_DOMAINS_PER_EXPORTER = 1024;
const keys = new Map<string, Map<number, string>>();

export function domainKey(exporterKey: string, domain: number): string {
  let byDomain = keys.get(exporterKey);
  if (byDomain === undefined) {
    if (keys.size >= MAX_EXPORTERS) keys.clear();
    keys.set(exporterKey, (byDomain = new Map()));
  }
  let key = byDomain.get(domain);
  if (key === undefined) {
    if (byDomain.size >= MAX_DOMAINS_PER_EXPORTER) byDomain.clear();
    byDomain.set(domain, (key = `${exporterKey}|${domain}`));
  }
  return key;
}
