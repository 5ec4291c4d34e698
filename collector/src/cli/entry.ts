// Entry point of the single-file bundle (manifests/): the command with its arguments. The bundle is also what
// its decode workers run (pipeline/workers.ts starts this file as a worker thread): worker.js then starts itself.
import { isMainThread, workerData } from 'node:worker_threads';
import '../pipeline/worker.js';
import { main } from './main.js';

if (isMainThread || !(workerData as { elkfcDecodeWorker?: boolean } | undefined)?.elkfcDecodeWorker) await main(process.argv.slice(2));
