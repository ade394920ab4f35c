// Runs every tests/e2e/*.test.mjs (or those named on the command line) against the real
// binary: `node tests/e2e/run.mjs --binary build/astrad [file-or-test-filter...]`.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, runDir } from './lib/runner.mjs';

const filters = parseArgs(process.argv.slice(2));
const failed = await runDir(path.dirname(fileURLToPath(import.meta.url)), 'e2e', filters);
process.exit(failed ? 1 : 0);
