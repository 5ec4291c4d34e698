import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { StoredTemplate, TemplateLimits, TemplateSession } from './template-session.js';

const FORMAT_VERSION = 1;

/**
 * The largest file a session within `limits` writes: a field is at most 56 octets of JSON (a v9 scope field,
 * `{"enterprise":0,"id":65535,"length":65535,"scope":true},`; 64 allowed), a template's own part under 300 with an
 * IPv6 exporter key (640 allowed). A larger file was not written by this collector under these limits, and is not read (reading
 * it could cost more memory than the limits allow).
 */
export function templateFileBound(limits: TemplateLimits): number {
  return limits.maxTemplateFields * 64 + limits.maxTemplates * 640 + 1024;
}

interface TemplateFile {
  formatVersion: number;
  savedAtMs: number;
  templates: StoredTemplate[];
}

/**
 * Keeps UDP templates on disk across restarts. Wraps the session (reads its stored templates, restores into it)
 * rather than living inside it. Writes are atomic (temporary file, then rename), so a crash mid-write leaves the
 * previous state, never a torn file.
 */
export class TemplatePersistence {
  private lastWritten = '';

  constructor(
    private readonly path: string,
    private readonly maxBytes = Infinity,
  ) {}

  /**
   * Restores saved templates; a missing file is a first start, an unreadable or oversized one is reported and
   * ignored. Templates past the session's limits are left out and counted (`refused`).
   */
  async load(session: TemplateSession, nowMs: number): Promise<{ restored: number; refused?: number; problem?: string }> {
    return this.restoreWith((templates) => session.restore(templates, nowMs));
  }

  /**
   * Reads the saved templates and gives them to `restore` (a session, or the decode workers, each taking those of
   * the exporters it owns); what `load` does, for state that is not one session.
   */
  async restoreWith(
    restore: (templates: StoredTemplate[]) => { restored: number; refused: number } | Promise<{ restored: number; refused: number }>,
  ): Promise<{ restored: number; refused?: number; problem?: string }> {
    let text: string;
    try {
      const { size } = await stat(this.path);
      if (size > this.maxBytes) return { restored: 0, problem: `${size} octets, more than the template limits allow (${this.maxBytes})` };
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { restored: 0 };
      return { restored: 0, problem: (error as Error).message };
    }
    let file: TemplateFile;
    try {
      file = JSON.parse(text) as TemplateFile;
      if (file.formatVersion !== FORMAT_VERSION || !Array.isArray(file.templates)) {
        return { restored: 0, problem: `unknown format ${file.formatVersion}` };
      }
      this.lastWritten = JSON.stringify(file.templates);
    } catch (error) {
      return { restored: 0, problem: (error as Error).message };
    }
    try {
      return await restore(file.templates);
    } catch (error) {
      return { restored: 0, problem: (error as Error).message };
    }
  }

  /** Writes the session's templates when they changed since the last write. */
  save(session: TemplateSession, nowMs: number): Promise<boolean> {
    return this.saveTemplates(session.storedTemplates(), nowMs);
  }

  /** Writes these templates (every decode worker's) when they changed since the last write. */
  async saveTemplates(templates: StoredTemplate[], nowMs: number): Promise<boolean> {
    const serialised = JSON.stringify(templates);
    if (serialised === this.lastWritten) return false;
    const file: TemplateFile = { formatVersion: FORMAT_VERSION, savedAtMs: nowMs, templates };
    await mkdir(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(file));
    await rename(temporary, this.path);
    this.lastWritten = serialised;
    return true;
  }
}
