// The loop both test runners share (tests/e2e/run.mjs, tests/browser/run.mjs): parses
// `--binary PATH [filter...]`, imports every *.test.mjs of a directory, runs the tests that
// match a filter, and prints "ok - file: test" / "not ok - file: test" and a closing count.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { takeTests } from './harness.mjs';

export function parseArgs(argv) {
  const filters = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--binary') process.env.ASTRAD_BINARY = path.resolve(argv[++i]);
    else filters.push(argv[i]);
  }
  return filters;
}

export async function runDir(dir, name, filters) {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.test.mjs')).sort();
  let passed = 0, failed = 0;
  for (const file of files) {
    const base = file.replace(/\.test\.mjs$/, '');
    await import(pathToFileURL(path.join(dir, file)).href);
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
  console.log(`# ${name}: ${passed} passed, ${failed} failed`);
  return failed;
}
