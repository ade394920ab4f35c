// Shared by the browser tests: Chromium through playwright-core with a page that collects
// every console error, page error and failed request (other than the HTTP errors a test
// provokes on purpose), and screenshots into tests/artifacts/browser/.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { assert } from '../e2e/lib/harness.mjs';
import { ROOT } from '../e2e/lib/daemon.mjs';

export const ARTIFACTS = path.join(ROOT, 'tests/artifacts/browser');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
// A 1x1 PNG for Discord's avatar CDN: the browser never leaves the machine.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAAABJRU5ErkJggg==', 'base64');

export async function withBrowser(fn, { viewport = { width: 1280, height: 900 } } = {}) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: ARGS, headless: true });
  try {
    const context = await browser.newContext({ viewport, locale: 'pt-BR' });
    await context.route('https://cdn.discordapp.com/**', (r) => r.fulfill({ status: 200, contentType: 'image/png', body: PNG }));
    const page = await context.newPage();
    const problems = [];
    // Responses the test provokes on purpose (bad input, no session yet) are not problems;
    // Chromium logs them as "Failed to load resource" console errors, so they are listed here
    // as "<status> <path>".
    page.expectedHttpErrors = new Set();
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    // ERR_ABORTED is a request the page itself cancelled by navigating (page.goto during a
    // status poll), not a failure of the server.
    page.on('requestfailed', (r) => {
      const why = r.failure()?.errorText || '';
      if (!why.includes('ERR_ABORTED')) problems.push(`request failed: ${r.method()} ${r.url()} ${why}`);
    });
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      const st = /status of (\d+)/.exec(m.text());
      const url = m.location()?.url ? new URL(m.location().url).pathname : '';
      if (st && page.expectedHttpErrors.has(`${st[1]} ${url}`)) return;
      problems.push(`console: ${m.text()} (${m.location()?.url || ''})`);
    });
    try {
      await fn(page);
    } catch (e) {
      await page.screenshot({ path: path.join(ARTIFACTS, 'failure.png'), fullPage: true }).catch(() => {});
      if (problems.length) e.message += `\nbrowser errors:\n${problems.join('\n')}`;
      throw e;
    }
    assert(problems.length === 0, `browser reported errors:\n${problems.join('\n')}`);
  } finally {
    await browser.close();
  }
}

export const shot = (page, name) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
