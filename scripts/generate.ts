// Regenerates every generated artefact of the project. `npm run generate`; test/generated.test.ts fails
// when running this would change a committed file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { generatedArtefacts } from './artefacts.js';

for (const artefact of await generatedArtefacts()) {
  mkdirSync(dirname(artefact.path), { recursive: true });
  writeFileSync(artefact.path, artefact.content);
  console.log(`wrote ${artefact.path}`);
}
