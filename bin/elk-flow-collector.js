#!/usr/bin/env node
// Entry point of the elk-flow-collector command. The TypeScript sources are compiled to dist/ on install.
// A SIGTERM or Ctrl-C while the modules load (seconds on a busy machine) ends the process with 0, as a stop
// would: nothing runs yet. Once loaded, the commands handle signals themselves (run: a graceful stop).
const early = () => process.exit(0);
process.once('SIGTERM', early).once('SIGINT', early);
const { main } = await import('../dist/collector/src/cli/main.js');
process.off('SIGTERM', early).off('SIGINT', early);

await main(process.argv.slice(2));
