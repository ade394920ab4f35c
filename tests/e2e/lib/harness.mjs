// The e2e harness: test() registers a test; run.mjs runs them in order, one line each
// ("ok - file: name" / "not ok - file: name"), with the failure's message and stack below.
const tests = [];
export function test(name, fn, opts = {}) {
  tests.push({ name, fn, timeout: opts.timeout ?? 30000 });
}
export function takeTests() {
  return tests.splice(0, tests.length);
}

export class AssertionError extends Error {}
export function assert(cond, msg) {
  if (!cond) throw new AssertionError(msg || 'assertion failed');
}
export function eq(actual, expected, msg) {
  const a = JSON.stringify(actual), e = JSON.stringify(expected);
  if (a !== e) throw new AssertionError(`${msg ? msg + ': ' : ''}got ${a}, expected ${e}`);
}
export function match(text, re, msg) {
  if (!re.test(text)) throw new AssertionError(`${msg ? msg + ': ' : ''}${JSON.stringify(String(text).slice(0, 300))} does not match ${re}`);
}
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export async function until(fn, { timeout = 5000, every = 25, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new AssertionError(`timed out waiting for ${what}`);
    await sleep(every);
  }
}
