// Regenerates every generated artefact of the project. `npm run generate`; test/generated.test.ts fails
// when running this would change a committed file.
import { writeFileSync } from 'node:fs';
import { generatedArtefacts } from './artefacts.js';

for (const artefact of await generatedArtefacts()) {
  writeFileSync(artefact.path, artefact.content);
  console.log(`wrote ${artefact.path}`);
}
