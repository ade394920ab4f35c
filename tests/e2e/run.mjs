// Runs every tests/e2e/*.test.mjs (or those named on the command line) against the real
// binary: `node tests/e2e/run.mjs --binary build/astrad [file-or-test-filter...]`.
// Prints "ok - file: test" / "not ok - file: test" lines and a closing count.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { takeTests } from './lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const filters = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--binary') process.env.ASTRAD_BINARY = path.resolve(args[++i]);
  else filters.push(args[i]);
}

const files = fs.readdirSync(here).filter((f) => f.endsWith('.test.mjs')).sort();
let passed = 0, failed = 0;
for (const file of files) {
  const base = file.replace(/\.test\.mjs$/, '');
  await import(pathToFileURL(path.join(here, file)).href);
  for (const t of takeTests()) {
    const label = `${base}: ${t.name}`;
    if (filters.length && !filters.some((f) => label.includes(f))) continue;
    const started = Date.now();
    let timer;
    try {
      await Promise.race([
        t.fn(),
        new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`timed out after ${t.timeout} ms`)), t.timeout); }),
      ]);
      console.log(`ok - ${label} (${Date.now() - started} ms)`);
      passed++;
    } catch (e) {
      console.log(`not ok - ${label}`);
      for (const line of String(e && e.stack || e).split('\n').slice(0, 12)) console.log(`#   ${line}`);
      failed++;
    } finally {
      clearTimeout(timer);
    }
  }
}
console.log(`# e2e: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
