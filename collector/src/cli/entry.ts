// Entry point of the single-file bundle (manifests/): the command with its arguments.
import { main } from './main.js';

await main(process.argv.slice(2));
