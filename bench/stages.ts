// Where the serialising time goes: Flow Aggregator records decoded and enriched once (bench/cluster.ts), then each
// part of their documents written alone, round after round in turn (so that the machine's drift falls on every
// part alike), CPU µs per document. Not the collector's path (that is bench/decode.ts): its parts taken apart.
import { ByteBuffer } from '../collector/src/document/bytes.js';
import { DOCUMENT_ID_ROOM, writeDocumentId } from '../collector/src/document/document-id.js';
import type { FlowDocument } from '../collector/src/document/document.js';
import { writeEcs } from '../collector/src/document/ecs.js';
import { compileRecordWriter, type RecordWriter } from '../collector/src/document/record-writer.js';
import type { RecordLayout } from '../collector/src/decoders/template.js';
import { NO_TEXT_SLOTS } from '../collector/src/decoders/values.js';
import { benchPipeline } from './decode.js';
import { spread, type Spread } from './proc.js';

export type Stage =
  | 'the ipfix object (its compiled record writer)'
  | 'the same keys, every value 0 (keys and per-field dispatch)'
  | 'the ECS fields'
  | 'the _id (SHA-1 of its origin)'
  | 'JSON.stringify of the ipfix object (its labels through toJSON), and its UTF-8';

export function benchStages(rounds = 10): Map<Stage, Spread> {
  const { pipeline, stream, session } = benchPipeline('aggregator');
  const documents: FlowDocument[] = [];
  for (const message of stream.messages.slice(0, 3000)) documents.push(...pipeline.process(message, session, 0));
  const out = new ByteBuffer(8 << 20);
  const writers = new Map<RecordLayout, RecordWriter>();
  // The same keys and per-field dispatch with every value an integer 0: what the keys and the dispatch cost alone.
  const zeroWriters = new Map<RecordLayout, [RecordWriter, Record<string, number>]>();
  for (const { layout } of documents) {
    if (writers.has(layout)) continue;
    writers.set(layout, compileRecordWriter(layout, (v) => JSON.stringify(v)));
    const zeros = Object.fromEntries(layout.names.map((name) => [name, 0]));
    zeroWriters.set(layout, [compileRecordWriter({ names: layout.names, kinds: layout.kinds.map(() => 'integer' as const) }, () => '0'), zeros]);
  }
  const stages: [Stage, (d: FlowDocument) => void][] = [
    ['the ipfix object (its compiled record writer)', (d) => writers.get(d.layout)!(d.fields, out, d.textSlots ?? NO_TEXT_SLOTS)],
    ['the same keys, every value 0 (keys and per-field dispatch)', (d) => {
      const [write, zeros] = zeroWriters.get(d.layout)!;
      write(zeros, out, NO_TEXT_SLOTS);
    }],
    ['the ECS fields', (d) => writeEcs(d.fields, d.host, out)],
    ['the _id (SHA-1 of its origin)', (d) => {
      out.ensure(DOCUMENT_ID_ROOM);
      out.pos = writeDocumentId(d, out.buffer, out.pos);
    }],
    ['JSON.stringify of the ipfix object (its labels through toJSON), and its UTF-8', (d) => out.utf8(JSON.stringify(d.fields))],
  ];
  const cpu = new Map<Stage, number[]>(stages.map(([name]) => [name, []]));
  for (let round = 0; round < rounds + 1; round++) {
    for (const [name, write] of stages) {
      const started = process.cpuUsage();
      let n = 0;
      for (let pass = 0; pass < 5; pass++) {
        for (const d of documents) {
          write(d);
          n++;
          if (out.pos > 4 << 20) out.pos = 0;
        }
      }
      const used = process.cpuUsage(started);
      if (round > 0) cpu.get(name)!.push((used.user + used.system) / n); // round 0 warms the JIT up
    }
  }
  return new Map([...cpu].map(([name, values]) => [name, spread(values)]));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [name, s] of benchStages()) console.log(`${name}: ${s.median.toFixed(2)} (${s.min.toFixed(2)}–${s.max.toFixed(2)}) µs`);
}
