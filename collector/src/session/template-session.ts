import type { CompiledTemplate, MessageHeader, TemplateDefinition } from '../decoders/template.js';
import { domainKey as sharedDomainKey } from './domain-key.js';

/**
 * Identifies one exporter transport session (RFC 7011 §8): `udp:<address>:<port>` for UDP (address and
 * port of the exporter), `tcp:<address>:<port>` for one TCP connection. Template ids are only unique
 * within a session and observation domain, so every lookup goes through this key.
 */
export interface ExporterSessionKey {
  readonly key: string;
  /** Exporter address as text: the document's `host`. */
  readonly address: string;
  /** UDP templates expire; TCP templates live as long as the connection. */
  readonly expires: boolean;
}

interface TemplateEntry {
  compiled: CompiledTemplate;
  lastSeenMs: number;
  expires: boolean;
  address: string;
}

/** A data set that arrived before its template, kept raw until the template comes or it ages out. */
export interface PendingSet {
  readonly templateId: number;
  readonly body: Buffer;
  readonly header: MessageHeader;
  readonly receivedAtMs: number;
  /** Offset of the set in its message (part of its records' identity). */
  readonly setOffset: number;
}

export interface PendingLimits {
  maxSets: number;
  maxBytes: number;
  maxAgeMs: number;
}

/** What the decoders may do with session state: nothing else of the session is visible to them. */
export interface DecoderSession {
  template(exporter: ExporterSessionKey, domain: number, templateId: number): CompiledTemplate | undefined;
  learn(exporter: ExporterSessionKey, domain: number, definition: TemplateDefinition, nowMs: number): CompiledTemplate;
  /** Withdraws one template, or with 'data'/'options' every template of that kind; returns how many went. */
  withdraw(exporter: ExporterSessionKey, domain: number, which: number | 'data' | 'options'): number;
  /** Holds a data set for a template not seen yet; returns the sets that had to be evicted to respect the bounds. */
  hold(exporter: ExporterSessionKey, domain: number, set: PendingSet): PendingSet[];
  /** Takes the held sets for templates that just arrived, in arrival order (so records keep the exporter's order). */
  release(exporter: ExporterSessionKey, domain: number, templateIds: ReadonlySet<number>): PendingSet[];
}

export interface ExpiryResult {
  templates: number;
  pendingSets: PendingSet[];
}

/** A persisted template: enough to recompile it after a restart. */
export interface StoredTemplate {
  exporter: string;
  address: string;
  domain: number;
  lastSeenMs: number;
  definition: TemplateDefinition;
}

const domainKey = (exporter: ExporterSessionKey, domain: number) => sharedDomainKey(exporter.key, domain);

/**
 * Template and pending-data state for every exporter session and observation domain.
 * Templates are compiled once when learned. UDP templates expire after `templateTimeoutMs` without a refresh;
 * TCP ones are dropped with their connection (`closeExporter`). Metrics and persistence wrap this class
 * (they read `stats()` and `storedTemplates()`) instead of branching inside it.
 */
export class TemplateSession implements DecoderSession {
  private readonly domains = new Map<string, Map<number, TemplateEntry>>();
  private readonly pending = new Map<string, PendingSet[]>();
  private pendingSets = 0;
  private pendingBytes = 0;

  constructor(
    private readonly compile: (definition: TemplateDefinition) => CompiledTemplate,
    private readonly templateTimeoutMs: number,
    private readonly pendingLimits: PendingLimits,
  ) {}

  template(exporter: ExporterSessionKey, domain: number, templateId: number): CompiledTemplate | undefined {
    return this.domains.get(domainKey(exporter, domain))?.get(templateId)?.compiled;
  }

  learn(exporter: ExporterSessionKey, domain: number, definition: TemplateDefinition, nowMs: number): CompiledTemplate {
    const key = domainKey(exporter, domain);
    let templates = this.domains.get(key);
    if (!templates) this.domains.set(key, (templates = new Map()));
    const existing = templates.get(definition.templateId);
    // Exporters resend templates every few minutes: keep the compiled function when nothing changed.
    if (existing && sameDefinition(existing.compiled.definition, definition)) {
      existing.lastSeenMs = nowMs;
      return existing.compiled;
    }
    const compiled = this.compile(definition);
    templates.set(definition.templateId, { compiled, lastSeenMs: nowMs, expires: exporter.expires, address: exporter.address });
    return compiled;
  }

  withdraw(exporter: ExporterSessionKey, domain: number, which: number | 'data' | 'options'): number {
    const templates = this.domains.get(domainKey(exporter, domain));
    if (!templates) return 0;
    if (typeof which === 'number') return templates.delete(which) ? 1 : 0;
    let count = 0;
    for (const [id, entry] of templates) {
      const isOptions = entry.compiled.definition.scopeFieldCount > 0;
      if ((which === 'options') === isOptions) {
        templates.delete(id);
        count++;
      }
    }
    return count;
  }

  hold(exporter: ExporterSessionKey, domain: number, set: PendingSet): PendingSet[] {
    const key = domainKey(exporter, domain);
    let list = this.pending.get(key);
    if (!list) this.pending.set(key, (list = []));
    list.push(set);
    this.pendingSets++;
    this.pendingBytes += set.body.length;
    const evicted: PendingSet[] = [];
    while (this.pendingSets > this.pendingLimits.maxSets || this.pendingBytes > this.pendingLimits.maxBytes) {
      const oldest = this.oldestPending();
      if (!oldest) break;
      evicted.push(this.removePending(oldest.key, 0));
    }
    return evicted;
  }

  release(exporter: ExporterSessionKey, domain: number, templateIds: ReadonlySet<number>): PendingSet[] {
    const key = domainKey(exporter, domain);
    const list = this.pending.get(key);
    if (!list) return [];
    const released: PendingSet[] = [];
    for (let i = 0; i < list.length; ) {
      if (templateIds.has(list[i].templateId)) released.push(this.removePending(key, i));
      else i++;
    }
    return released;
  }

  /** Drops the state of a TCP connection that closed. Returns its pending sets, which can no longer decode. */
  closeExporter(exporter: ExporterSessionKey): PendingSet[] {
    const prefix = `${exporter.key}|`;
    for (const key of [...this.domains.keys()]) if (key.startsWith(prefix)) this.domains.delete(key);
    const dropped: PendingSet[] = [];
    for (const key of [...this.pending.keys()]) {
      if (!key.startsWith(prefix)) continue;
      while (this.pending.get(key)?.length) dropped.push(this.removePending(key, 0));
    }
    return dropped;
  }

  /** Removes UDP templates not refreshed within the timeout and pending sets older than their bound. */
  expire(nowMs: number): ExpiryResult {
    let templates = 0;
    for (const [key, entries] of this.domains) {
      for (const [id, entry] of entries) {
        if (entry.expires && nowMs - entry.lastSeenMs > this.templateTimeoutMs) {
          entries.delete(id);
          templates++;
        }
      }
      if (entries.size === 0) this.domains.delete(key);
    }
    const pendingSets: PendingSet[] = [];
    for (const [key, list] of this.pending) {
      while (list.length > 0 && nowMs - list[0].receivedAtMs > this.pendingLimits.maxAgeMs) {
        pendingSets.push(this.removePending(key, 0));
      }
    }
    return { templates, pendingSets };
  }

  stats(): { templates: number; pendingSets: number; pendingBytes: number } {
    let templates = 0;
    for (const entries of this.domains.values()) templates += entries.size;
    return { templates, pendingSets: this.pendingSets, pendingBytes: this.pendingBytes };
  }

  /** Templates worth persisting: those of UDP sessions, which a restarted collector can use at once. */
  storedTemplates(): StoredTemplate[] {
    const result: StoredTemplate[] = [];
    for (const [key, entries] of this.domains) {
      const separator = key.lastIndexOf('|');
      for (const entry of entries.values()) {
        if (!entry.expires) continue;
        result.push({
          exporter: key.slice(0, separator),
          address: entry.address,
          domain: Number(key.slice(separator + 1)),
          lastSeenMs: entry.lastSeenMs,
          definition: entry.compiled.definition,
        });
      }
    }
    return result;
  }

  /** Restores persisted templates (recompiling them); ones already expired by `nowMs` are left out. */
  restore(stored: readonly StoredTemplate[], nowMs: number): number {
    let restored = 0;
    for (const t of stored) {
      if (nowMs - t.lastSeenMs > this.templateTimeoutMs) continue;
      const exporter: ExporterSessionKey = { key: t.exporter, address: t.address, expires: true };
      this.learn(exporter, t.domain, t.definition, t.lastSeenMs);
      restored++;
    }
    return restored;
  }

  private oldestPending(): { key: string; set: PendingSet } | undefined {
    let oldest: { key: string; set: PendingSet } | undefined;
    for (const [key, list] of this.pending) {
      if (list.length > 0 && (!oldest || list[0].receivedAtMs < oldest.set.receivedAtMs)) oldest = { key, set: list[0] };
    }
    return oldest;
  }

  private removePending(key: string, index: number): PendingSet {
    const list = this.pending.get(key)!;
    const [set] = list.splice(index, 1);
    if (list.length === 0) this.pending.delete(key);
    this.pendingSets--;
    this.pendingBytes -= set.body.length;
    return set;
  }
}

function sameDefinition(a: TemplateDefinition, b: TemplateDefinition): boolean {
  if (a.version !== b.version || a.scopeFieldCount !== b.scopeFieldCount || a.fields.length !== b.fields.length) return false;
  return a.fields.every((f, i) => {
    const g = b.fields[i];
    return f.id === g.id && f.enterprise === g.enterprise && f.length === g.length && !!f.scope === !!g.scope;
  });
}
