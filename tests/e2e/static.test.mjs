// Static files as a browser gets them, and attempts to read outside web/.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { test, assert, eq, match } from './lib/harness.mjs';
import { startDaemon, rawRequest, tmpDir, ROOT } from './lib/daemon.mjs';

// A private web/ with a secret beside it and links pointing out, so escapes are detectable.
function makeWeb() {
  const dir = tmpDir('astra-web-');
  const web = path.join(dir, 'web');
  fs.cpSync(path.join(ROOT, 'web'), web, { recursive: true });
  fs.writeFileSync(path.join(dir, 'secret.txt'), 'TOP-SECRET-OUTSIDE-WEB');
  fs.symlinkSync(path.join(dir, 'secret.txt'), path.join(web, 'portal', 'leak.txt'));
  fs.symlinkSync(dir, path.join(web, 'portal', 'up'));
  fs.writeFileSync(path.join(web, 'portal', 'big.js'), `export const x = ${JSON.stringify('abc'.repeat(5000))};\n`);
  return web;
}

test('portal pages: index at / and SPA routes under /dashboard, with types and caching', async () => {
  const d = await startDaemon({ env: { WEB_DIR: makeWeb() } });
  try {
    const r = await fetch(`${d.portal}/`);
    eq(r.status, 200);
    match(r.headers.get('content-type'), /^text\/html/);
    match(r.headers.get('content-security-policy'), /script-src 'self'/);
    eq(r.headers.get('x-content-type-options'), 'nosniff');
    eq(r.headers.get('cache-control'), 'no-cache');
    const html = await r.text();
    match(html, /<html/);
    const etag = r.headers.get('etag');
    match(etag, /^"[0-9a-f]{16}"$/);
    const r304 = await fetch(`${d.portal}/`, { headers: { 'if-none-match': etag } });
    eq(r304.status, 304);
    const spa = await fetch(`${d.portal}/dashboard/instances/abc`);
    eq(spa.status, 200);
    eq(await spa.text(), html);
    const js = await fetch(`${d.portal}/app.js`);
    match(js.headers.get('content-type'), /^text\/javascript/);
    const css = await fetch(`${d.portal}/shared/base.css`);
    match(css.headers.get('content-type'), /^text\/css/);
    eq((await fetch(`${d.portal}/missing.js`)).status, 404);
    eq((await fetch(`${d.portal}/admin/app.js`)).status, 404, 'the admin app is not on the portal');
  } finally {
    eq((await d.stop()).code, 0);
  }
});

test('gzip when accepted, identity otherwise', async () => {
  const d = await startDaemon({ env: { WEB_DIR: makeWeb() } });
  try {
    const gz = await rawRequest(d.portalPort, 'GET /big.js HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip, br\r\nConnection: close\r\n\r\n');
    eq(gz.status, 200);
    eq(gz.headers['content-encoding'], 'gzip');
    eq(gz.headers['vary'], 'Accept-Encoding');
    const plain = zlib.gunzipSync(gz.body).toString();
    match(plain, /^export const x/);
    const id = await rawRequest(d.portalPort, 'GET /big.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    eq(id.headers['content-encoding'], undefined);
    eq(id.body.toString(), plain);
    const refused = await rawRequest(d.portalPort, 'GET /big.js HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip;q=0\r\nConnection: close\r\n\r\n');
    eq(refused.headers['content-encoding'], undefined);
  } finally {
    eq((await d.stop()).code, 0);
  }
});

test('the admin app is served at /admin on the admin listener, without the token', async () => {
  const d = await startDaemon();
  try {
    for (const p of ['/admin', '/admin/', '/admin/instances/1']) {
      const r = await fetch(`${d.admin}${p}`);
      eq(r.status, 200, p);
      match(await r.text(), /Astra Admin/);
    }
    eq((await fetch(`${d.admin}/admin/app.js`)).status, 200);
  } finally {
    eq((await d.stop()).code, 0);
  }
});

test('no request reads outside web/: dots, encoded dots and slashes, NUL, backslashes, symlinks', async () => {
  const d = await startDaemon({ env: { WEB_DIR: makeWeb() } });
  try {
    const attempts = [
      '/../secret.txt', '/../../etc/passwd', '/%2e%2e/secret.txt', '/%2E%2E/%2E%2E/etc/passwd',
      '/..%2fsecret.txt', '/%2e%2e%2fsecret.txt', '/dashboard/../../secret.txt', '/shared/..%2F..%2Fsecret.txt',
      '/index.html%00.js', '/%00', '/..\\secret.txt', '/%5c..%5csecret.txt', '/leak.txt', '/up/secret.txt',
      '/./index.html', '/shared/%2e/base.css', '//etc/passwd', '/.env',
    ];
    for (const p of attempts) {
      const r = await rawRequest(d.portalPort, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert([400, 404].includes(r.status), `${p} -> ${r.status}`);
      assert(!r.body.toString().includes('TOP-SECRET'), `${p} leaked the file`);
      assert(!r.body.toString().includes('root:'), `${p} leaked /etc/passwd`);
    }
  } finally {
    eq((await d.stop()).code, 0);
  }
});
