// Sends Antrea Flow Aggregator messages over UDP at a fixed record rate for a fixed time, then prints how many
// records it sent. Runs in its own process so that the collector has its own core.
// Usage: node --import tsx bench/sender.ts PORT RECORDS_PER_SEC SECONDS
import { createSocket } from 'node:dgram';
import { antreaMessages, RECORDS_PER_MESSAGE } from './decode.js';

const [port, rate, seconds] = process.argv.slice(2).map(Number);
const [template, ...data] = antreaMessages(5000, 42);
const socket = createSocket('udp4');
socket.connect(port, '127.0.0.1', async () => {
  const send = (m: Buffer) => new Promise<void>((resolve, reject) => socket.send(m, (e) => (e ? reject(e) : resolve())));
  await send(template);
  await new Promise((r) => setTimeout(r, 200));
  const messagesPerMs = rate / RECORDS_PER_MESSAGE / 1000;
  const started = performance.now();
  let sent = 0;
  let sequence = 0;
  while (performance.now() - started < seconds * 1000) {
    const due = Math.floor((performance.now() - started) * messagesPerMs);
    const pending: Promise<void>[] = [];
    while (sent < due) {
      const message = data[sent % data.length];
      // Keep IPFIX sequence numbers continuous, so the collector's own loss counter is meaningful.
      message.writeUInt32BE(sequence, 8);
      sequence = (sequence + RECORDS_PER_MESSAGE) >>> 0;
      pending.push(send(Buffer.from(message)));
      sent++;
    }
    await Promise.all(pending);
    await new Promise((r) => setImmediate(r));
  }
  await send(template); // refresh, so a late template does not leave anything pending
  socket.close();
  console.log(JSON.stringify({ records: sent * RECORDS_PER_MESSAGE, seconds: (performance.now() - started) / 1000 }));
});
