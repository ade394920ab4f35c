// Runs every tests/browser/*.test.mjs (or those named on the command line) in Debian's
// Chromium through playwright-core: `node tests/browser/run.mjs --binary build/astrad`.
// Same output as tests/e2e/run.mjs (tests/e2e/lib/runner.mjs). Without /usr/bin/chromium it
// prints one skip line and passes.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, runDir } from '../e2e/lib/runner.mjs';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const filters = parseArgs(process.argv.slice(2));
if (!fs.existsSync(CHROMIUM)) {
  console.log('ok - browser # SKIP chromium not installed');
  console.log('# browser: 1 passed, 0 failed');
  process.exit(0);
}
const failed = await runDir(path.dirname(fileURLToPath(import.meta.url)), 'browser', filters);
process.exit(failed ? 1 : 0);
