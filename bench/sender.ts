// Sends IPFIX streams of realistic Antrea records (bench/cluster.ts) over UDP at a fixed total record rate for a
// fixed time, then prints how many records it sent and the CPU it used. Its own process. With EXPORTERS above 1 it
// is that many exporters: one socket each (its own source port, so its own session at the collector), its own
// templates and sequence numbers; messages go round the exporters.
// It sends what is due, then sleeps a millisecond: a sender that spun between sends (as this one did until
// 2 December 2026) held a whole core whatever the rate, and on a 2-core machine left the collector one core.
// Usage: node --import tsx bench/sender.ts PORT RECORDS_PER_SEC SECONDS [aggregator|agent] [EXPORTERS]
import { createSocket, type Socket } from 'node:dgram';
import { ipfixStream, makeCluster, type Exporter } from './cluster.js';

const [port, rate, seconds] = process.argv.slice(2, 5).map(Number);
const exporter = (process.argv[5] ?? 'aggregator') as Exporter;
const exporters = Math.max(1, Number(process.argv[6] ?? 1));
const stream = ipfixStream(makeCluster(42), exporter, 30_000, 42);

const connect = () => new Promise<Socket>((resolve) => {
  const socket = createSocket({ type: 'udp4', sendBufferSize: 8 << 20 });
  socket.connect(port, '127.0.0.1', () => resolve(socket));
});
const sockets = await Promise.all(Array.from({ length: exporters }, connect));
const sequences = sockets.map(() => 0);
let inFlight = 0;
let failed = 0;
const sendNow = (socket: Socket, m: Buffer) => {
  inFlight++;
  socket.send(m, (e) => {
    if (e) failed++;
    inFlight--;
  });
};
for (const socket of sockets) for (const template of stream.templates) sendNow(socket, template);
await new Promise((r) => setTimeout(r, 300));
const recordsPerMs = rate / 1000;
const started = performance.now();
const startedCpu = process.cpuUsage();
let records = 0;
let index = 0;
while (performance.now() - started < seconds * 1000) {
  const due = Math.floor((performance.now() - started) * recordsPerMs);
  while (records < due) {
    const i = index % stream.messages.length;
    const e = index % exporters;
    // A copy per datagram: the message is in flight while the next one's sequence number is written.
    const message = Buffer.from(stream.messages[i]);
    // Continuous IPFIX sequence numbers per exporter (records, modulo 2^32), so the collector's loss counter is meaningful.
    message.writeUInt32BE(sequences[e], 8);
    sequences[e] = (sequences[e] + stream.recordsPerMessage[i]) >>> 0;
    records += stream.recordsPerMessage[i];
    index++;
    sendNow(sockets[e], message);
  }
  // Bursts of a millisecond's datagrams (about 40 at 50,000 records/s) are nothing to a receive buffer of megabytes.
  await new Promise((r) => setTimeout(r, 1));
}
for (const socket of sockets) for (const template of stream.templates) sendNow(socket, template); // refresh, so nothing is left waiting for a template
while (inFlight > 0) await new Promise((r) => setImmediate(r));
for (const socket of sockets) socket.close();
const cpu = process.cpuUsage(startedCpu);
const elapsed = (performance.now() - started) / 1000;
console.log(JSON.stringify({ records, messages: index, failed, exporters, seconds: elapsed, cores: (cpu.user + cpu.system) / 1e6 / elapsed }));
