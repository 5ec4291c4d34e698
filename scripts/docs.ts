import type { Artefact } from './artefacts.js';
export async function documentationArtefacts(_root: string): Promise<Artefact[]> {
  return [];
}
