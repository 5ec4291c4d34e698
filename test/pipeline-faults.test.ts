// A bug of ours after decoding (document, ECS, enrichment) costs the record it hit, counted, never the process
// or the other records of the message.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AntreaEnricher } from '../collector/src/enrich/antrea.js';
import { aggregatorLayout, aggregatorRecord, dataMessage, templateMessage } from './support/antrea-encoder.js';
import { counter, decodeAll, testPipeline } from './support/offline.js';

afterEach(() => vi.restoreAllMocks());

describe('a failure after decoding', () => {
  it('drops only the record it hit, counted as an internal error; the others are documents', async () => {
    const enrich = AntreaEnricher.prototype.enrich;
    vi.spyOn(AntreaEnricher.prototype, 'enrich').mockImplementation(function (this: AntreaEnricher, ...args) {
      if (args[0].fields.sourcePodName === 'broken') throw new Error('a bug');
      return enrich.apply(this, args);
    });
    const { pipeline, metrics } = testPipeline();
    const layout = aggregatorLayout(4);
    const header = { exportTimeSecs: 1_700_000_000, sequence: 0, domain: 1 };
    const records = [aggregatorRecord(0), aggregatorRecord(1, { sourcePodName: 'broken' }), aggregatorRecord(2)];
    const documents = decodeAll(pipeline, [templateMessage(header, 300, layout), dataMessage(header, 300, layout, records)]);
    expect(documents.map((d) => d.fields.sourcePodName)).toEqual(['client-0', 'client-2']);
    expect(await counter(metrics, 'elkfc_decode_errors_total', { kind: 'internal_error' })).toBe(1);
  });
});
