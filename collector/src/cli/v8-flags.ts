import { setFlagsFromString } from 'node:v8';

/**
 * V8 settings of the collector's process (its worker threads share them), set before any record is decoded.
 *
 * `--no-allocation-site-pretenuring`: V8 may decide from a few scavenges that an object literal's objects live long
 * and allocate them straight into the old generation from then on, for the rest of the process. A collector's records
 * and documents live for microseconds; when V8 had decided so for them (seen in 13 of about 140 benchmark runs on
 * 2 December 2026, `%InYoungGeneration` false for a record and its document), decoding and enrichment ran 1.5-2.5
 * times as long per record until the process ended (README, Performance).
 */
export const V8_FLAGS = ['--no-allocation-site-pretenuring'] as const;

export function applyV8Flags(): void {
  for (const flag of V8_FLAGS) setFlagsFromString(flag);
}
