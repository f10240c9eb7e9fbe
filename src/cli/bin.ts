// The `forwardpass` command (package.json "bin", built to dist/cli.js): always runs the CLI on process.argv,
// whatever name npm's bin link or a global install gives the file. main.ts only exports main().
import { main } from './main.js';

// exit explicitly once stdout is flushed: a WebGPU device (Dawn) would otherwise keep the process alive
main(process.argv.slice(2)).then((code) => process.stdout.write('', () => process.exit(code)));
