// Sends one exporter's IPFIX stream of realistic Antrea records (bench/cluster.ts) over UDP at a fixed record
// rate for a fixed time, then prints how many records it sent. Its own process, so that it has its own core.
// Usage: node --import tsx bench/sender.ts PORT RECORDS_PER_SEC SECONDS [aggregator|agent]
import { createSocket } from 'node:dgram';
import { ipfixStream, makeCluster, type Exporter } from './cluster.js';

const [port, rate, seconds] = process.argv.slice(2, 5).map(Number);
const exporter = (process.argv[5] ?? 'aggregator') as Exporter;
const stream = ipfixStream(makeCluster(42), exporter, 30_000, 42);
const socket = createSocket({ type: 'udp4', sendBufferSize: 8 << 20 });
socket.connect(port, '127.0.0.1', async () => {
  let inFlight = 0;
  let failed = 0;
  const done = () => {
    inFlight--;
  };
  const sendNow = (m: Buffer) => {
    inFlight++;
    socket.send(m, (e) => {
      if (e) failed++;
      done();
    });
  };
  for (const template of stream.templates) sendNow(template);
  await new Promise((r) => setTimeout(r, 300));
  const recordsPerMs = rate / 1000;
  const started = performance.now();
  let records = 0;
  let index = 0;
  let sequence = 0;
  while (performance.now() - started < seconds * 1000) {
    const due = Math.floor((performance.now() - started) * recordsPerMs);
    while (records < due) {
      const i = index % stream.messages.length;
      // A copy per datagram: the message is in flight while the next one's sequence number is written.
      const message = Buffer.from(stream.messages[i]);
      // Continuous IPFIX sequence numbers (records, modulo 2^32), so the collector's loss counter is meaningful.
      message.writeUInt32BE(sequence, 8);
      sequence = (sequence + stream.recordsPerMessage[i]) >>> 0;
      records += stream.recordsPerMessage[i];
      index++;
      sendNow(message);
    }
    await new Promise((r) => setImmediate(r));
  }
  for (const template of stream.templates) sendNow(template); // refresh, so nothing is left waiting for a template
  while (inFlight > 0) await new Promise((r) => setImmediate(r));
  socket.close();
  console.log(JSON.stringify({ records, messages: index, failed, seconds: (performance.now() - started) / 1000 }));
});
