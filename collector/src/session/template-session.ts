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
  /** UDP templates expire; a connection's (TCP, TLS) live as long as it does. */
  readonly expires: boolean;
}

/**
 * A connection's session (TCP, TLS: every stream input, whatever its key's prefix): reliable and ordered, so a
 * sequence gap there is the exporter's, never loss in transit. Sessions that do not expire are exactly these.
 */
export function reliableTransport(exporter: ExporterSessionKey): boolean {
  return !exporter.expires;
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

/**
 * Bounds on template state, so that no exporter can make it outgrow the collector's memory. The field count is what
 * costs memory (a template's definition, layout and generated decoder, and the document writer's serialiser for it:
 * about 400 octets of heap per field once used): `maxTemplateFields` bounds it for all exporters together.
 */
export interface TemplateLimits {
  maxFieldsPerTemplate: number;
  /** Templates per exporter address, over all its sessions and observation domains. */
  maxTemplatesPerExporter: number;
  maxTemplates: number;
  maxTemplateFields: number;
}

/**
 * The defaults (the configuration's `decoding.*` keys). An Antrea Flow Exporter holds 2 templates of 43 fields, a
 * Flow Aggregator 2 of 70: 250,000 fields are 2,900 Flow Exporters exporting directly.
 */
export const TEMPLATE_LIMIT_DEFAULTS: TemplateLimits = {
  maxFieldsPerTemplate: 512,
  maxTemplatesPerExporter: 1024,
  maxTemplates: 20_000,
  maxTemplateFields: 250_000,
};

export type TemplateLimitName = 'fields_per_template' | 'templates_per_exporter' | 'templates' | 'template_fields';

/** A template the session would not keep: which limit, and a sentence for the log. */
export interface TemplateRefusal {
  readonly refused: TemplateLimitName;
  readonly reason: string;
}

/** What the decoders may do with session state: nothing else of the session is visible to them. */
export interface DecoderSession {
  template(exporter: ExporterSessionKey, domain: number, templateId: number): CompiledTemplate | undefined;
  /** Keeps (and compiles) a template, or refuses it when that would pass one of the template limits. */
  learn(exporter: ExporterSessionKey, domain: number, definition: TemplateDefinition, nowMs: number): CompiledTemplate | TemplateRefusal;
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

/** Template counts shared between threads (Int32Arrays over SharedArrayBuffers, [templates, fields]). */
export interface SharedTemplateCounts {
  all: Int32Array;
  own: Int32Array;
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
  /** Templates and their fields held, in total and per exporter address: what the limits are checked against. */
  private templateCount = 0;
  private fieldCount = 0;
  private readonly perAddress = new Map<string, number>();

  constructor(
    private readonly compile: (definition: TemplateDefinition) => CompiledTemplate,
    private readonly templateTimeoutMs: number,
    private readonly pendingLimits: PendingLimits,
    private readonly limits: TemplateLimits = TEMPLATE_LIMIT_DEFAULTS,
    /**
     * Templates and fields held by every session of the process (`all`: [templates, fields], shared by the decode
     * workers), against which maxTemplates and maxTemplateFields are checked, and this session's part of them
     * (`own`, so that the totals can be corrected when its thread dies); without it, this session's own counts.
     * Sessions check, then add: workers learning at the same instant can pass a limit by one template each.
     */
    private readonly shared?: SharedTemplateCounts,
  ) {}

  private count(templates: number, fields: number): void {
    this.templateCount += templates;
    this.fieldCount += fields;
    if (!this.shared) return;
    for (const counts of [this.shared.all, this.shared.own]) {
      Atomics.add(counts, 0, templates);
      Atomics.add(counts, 1, fields);
    }
  }

  template(exporter: ExporterSessionKey, domain: number, templateId: number): CompiledTemplate | undefined {
    return this.domains.get(domainKey(exporter, domain))?.get(templateId)?.compiled;
  }

  learn(exporter: ExporterSessionKey, domain: number, definition: TemplateDefinition, nowMs: number): CompiledTemplate | TemplateRefusal {
    const key = domainKey(exporter, domain);
    const existing = this.domains.get(key)?.get(definition.templateId);
    // Exporters resend templates every few minutes: keep the compiled function when nothing changed.
    if (existing && sameDefinition(existing.compiled.definition, definition)) {
      existing.lastSeenMs = nowMs;
      return existing.compiled;
    }
    const refusal = this.refusal(exporter, definition, existing);
    if (refusal) {
      // The exporter replaced the template: its records no longer have the old layout.
      if (existing) this.withdraw(exporter, domain, definition.templateId);
      return refusal;
    }
    const compiled = this.compile(definition);
    let templates = this.domains.get(key);
    if (!templates) this.domains.set(key, (templates = new Map()));
    if (existing) this.forgetEntry(existing);
    templates.set(definition.templateId, { compiled, lastSeenMs: nowMs, expires: exporter.expires, address: exporter.address });
    this.count(1, definition.fields.length);
    this.perAddress.set(exporter.address, (this.perAddress.get(exporter.address) ?? 0) + 1);
    return compiled;
  }

  /** Why keeping `definition` (in place of `existing`, if any) would pass a limit, or undefined. */
  private refusal(exporter: ExporterSessionKey, definition: TemplateDefinition, existing: TemplateEntry | undefined): TemplateRefusal | undefined {
    const l = this.limits;
    const fields = definition.fields.length;
    if (fields > l.maxFieldsPerTemplate) {
      return { refused: 'fields_per_template', reason: `${fields} fields, more than decoding.maxFieldsPerTemplate (${l.maxFieldsPerTemplate})` };
    }
    const added = existing ? 0 : 1;
    if ((this.perAddress.get(exporter.address) ?? 0) + added > l.maxTemplatesPerExporter) {
      return { refused: 'templates_per_exporter', reason: `the exporter already has decoding.maxTemplatesPerExporter (${l.maxTemplatesPerExporter}) templates` };
    }
    const templateCount = this.shared ? Atomics.load(this.shared.all, 0) : this.templateCount;
    const fieldCount = this.shared ? Atomics.load(this.shared.all, 1) : this.fieldCount;
    if (templateCount + added > l.maxTemplates) {
      return { refused: 'templates', reason: `the collector already holds decoding.maxTemplates (${l.maxTemplates}) templates` };
    }
    const freed = existing ? existing.compiled.definition.fields.length : 0;
    if (fieldCount - freed + fields > l.maxTemplateFields) {
      return { refused: 'template_fields', reason: `the collector's templates would pass decoding.maxTemplateFields (${l.maxTemplateFields}) fields` };
    }
    return undefined;
  }

  private forgetEntry(entry: TemplateEntry): void {
    this.count(-1, -entry.compiled.definition.fields.length);
    const left = (this.perAddress.get(entry.address) ?? 1) - 1;
    if (left > 0) this.perAddress.set(entry.address, left);
    else this.perAddress.delete(entry.address);
  }

  withdraw(exporter: ExporterSessionKey, domain: number, which: number | 'data' | 'options'): number {
    const templates = this.domains.get(domainKey(exporter, domain));
    if (!templates) return 0;
    if (typeof which === 'number') {
      const entry = templates.get(which);
      if (!entry) return 0;
      templates.delete(which);
      this.forgetEntry(entry);
      return 1;
    }
    let count = 0;
    for (const [id, entry] of templates) {
      const isOptions = entry.compiled.definition.scopeFieldCount > 0;
      if ((which === 'options') === isOptions) {
        templates.delete(id);
        this.forgetEntry(entry);
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
    for (const [key, entries] of [...this.domains]) {
      if (!key.startsWith(prefix)) continue;
      for (const entry of entries.values()) this.forgetEntry(entry);
      this.domains.delete(key);
    }
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
          this.forgetEntry(entry);
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

  /** What the session holds: templates and their fields (what the template limits bound), held data sets. */
  stats(): { templates: number; fields: number; exporters: number; pendingSets: number; pendingBytes: number } {
    return {
      templates: this.templateCount, fields: this.fieldCount, exporters: this.perAddress.size,
      pendingSets: this.pendingSets, pendingBytes: this.pendingBytes,
    };
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

  /**
   * Restores persisted templates (recompiling them); ones already expired by `nowMs` are left out, and so are
   * those past the template limits (a file written under larger limits, or edited), which are counted.
   */
  restore(stored: readonly StoredTemplate[], nowMs: number): { restored: number; refused: number } {
    let restored = 0;
    let refused = 0;
    for (const t of stored) {
      if (nowMs - t.lastSeenMs > this.templateTimeoutMs) continue;
      const exporter: ExporterSessionKey = { key: t.exporter, address: t.address, expires: true };
      if ('refused' in this.learn(exporter, t.domain, t.definition, t.lastSeenMs)) refused++;
      else restored++;
    }
    return { restored, refused };
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
