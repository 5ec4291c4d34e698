// Generated artefacts are committed; this fails when regenerating them (npm run generate) would change them.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatedArtefacts } from '../scripts/artefacts.js';

const root = new URL('..', import.meta.url).pathname;

describe('generated artefacts are up to date', async () => {
  for (const artefact of await generatedArtefacts()) {
    it(relative(root, artefact.path), () => {
      let committed: Buffer | undefined;
      try {
        committed = readFileSync(artefact.path);
      } catch {
        // missing: fails below
      }
      const message = `${relative(root, artefact.path)} is stale: run npm run generate`;
      expect(committed, message).toBeDefined();
      if (artefact.compare) expect(artefact.compare.actual(committed!) === artefact.compare.expected, message).toBe(true);
      else expect(committed!.toString('utf8'), message).toBe(artefact.content);
    });
  }
});
