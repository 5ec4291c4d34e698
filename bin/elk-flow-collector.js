#!/usr/bin/env node
// Entry point of the elk-flow-collector command. The TypeScript sources are compiled to dist/ on install.
import { main } from '../dist/collector/src/cli/main.js';

await main(process.argv.slice(2));
