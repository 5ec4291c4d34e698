// Regenerates every generated artefact of the project. `npm run generate`; test/generated.test.ts fails
// when running this would change a committed file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { elementsArtefact, type Artefact } from './artefacts.js';

function write(artefact: Artefact): void {
  mkdirSync(dirname(artefact.path), { recursive: true });
  writeFileSync(artefact.path, artefact.content);
  console.log(`wrote ${artefact.path}`);
}

// The element tables first, so that one run suffices after a CSV changes: the modules that make the other
// artefacts (docs, mappings, the bundle) import them, and are loaded only below.
write(elementsArtefact());
const { generatedArtefacts } = await import('./artefacts.js');
for (const artefact of await generatedArtefacts()) write(artefact);
