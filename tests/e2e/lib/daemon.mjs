// Starts the real astrad binary on free loopback ports with a temporary data directory,
// and speaks raw HTTP to it when a test needs bytes that fetch() would normalise.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assert, sleep, until } from './harness.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BINARY = process.env.ASTRAD_BINARY || path.join(ROOT, 'build/astrad');
export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

// Two distinct free ports: both sockets stay bound until both numbers are known, so the
// kernel cannot hand the same port out twice.
export async function freePorts(n = 2) {
  const servers = [];
  for (let i = 0; i < n; i++) {
    servers.push(await new Promise((resolve, reject) => {
      const s = net.createServer();
      s.on('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    }));
  }
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export function tmpDir(prefix = 'astra-e2e-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

const running = new Set();
process.on('exit', () => {
  for (const d of running) try { d.proc.kill('SIGKILL'); } catch {}
});

// Sanitizer reports in the daemon's stderr fail the test that stopped it.
export function sanitizerErrors(text) {
  const m = text.match(/(ERROR: (AddressSanitizer|LeakSanitizer)[^\n]*|runtime error:[^\n]*)/);
  return m ? m[0] : null;
}

export class Daemon {
  constructor(opts) {
    this.opts = opts;
    this.dir = opts.dir || tmpDir();
    this.dataDir = opts.dataDir || path.join(this.dir, 'data');
    this.logDir = path.join(this.dir, 'logs');
    this.stdout = '';
    this.stderr = '';
    this.exited = null;
  }

  async start({ waitHealthy = true } = {}) {
    const [p1, p2] = await freePorts(2);
    this.portalPort = this.opts.portalPort || p1;
    this.adminPort = this.opts.adminPort || p2;
    const env = {
      PATH: process.env.PATH,
      ASAN_OPTIONS: process.env.ASAN_OPTIONS || 'detect_leaks=1',
      UBSAN_OPTIONS: process.env.UBSAN_OPTIONS || 'print_stacktrace=1:halt_on_error=1',
      PORTAL_PORT: String(this.portalPort),
      ADMIN_PORT: String(this.adminPort),
      PORTAL_HOST: '127.0.0.1',
      ADMIN_HOST: '127.0.0.1',
      DATA_DIR: this.dataDir,
      LOG_DIR: this.logDir,
      WEB_DIR: path.join(ROOT, 'web'),
      LOG_LEVEL: 'debug',
      ADMIN_PANEL_TOKEN: ADMIN_TOKEN,
      SHUTDOWN_GRACE_MS: '5000',
      ...this.opts.env,
    };
    for (const [k, v] of Object.entries(env)) if (v === undefined || v === null) delete env[k];
    this.proc = spawn(this.opts.binary || BINARY, this.opts.args || [], {
      env, cwd: this.opts.cwd || this.dir, stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(this);
    this.proc.stdout.on('data', (d) => { this.stdout += d; });
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
    this.exitPromise = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        running.delete(this);
        this.exited = { code, signal };
        resolve(this.exited);
      });
    });
    this.portal = `http://127.0.0.1:${this.portalPort}`;
    this.admin = `http://127.0.0.1:${this.adminPort}`;
    if (waitHealthy) {
      await until(async () => {
        if (this.exited) throw new Error(`astrad exited early (${JSON.stringify(this.exited)}):\n${this.stderr.slice(-2000)}`);
        try {
          const r = await fetch(`${this.portal}/health`);
          return r.status === 200;
        } catch { return false; }
      }, { timeout: 20000, what: 'astrad /health' });
    }
    return this;
  }

  // Sends a signal and waits for the exit; returns {code, signal}. Sanitizer output fails.
  async stop(sig = 'SIGTERM', timeout = 20000) {
    if (!this.exited) {
      this.proc.kill(sig);
      const t = setTimeout(() => this.proc.kill('SIGKILL'), timeout);
      await this.exitPromise;
      clearTimeout(t);
    }
    const san = sanitizerErrors(this.stderr);
    assert(!san, `sanitizer report from astrad: ${san}\n${this.stderr.slice(-3000)}`);
    return this.exited;
  }

  async kill() {
    if (!this.exited) {
      this.proc.kill('SIGKILL');
      await this.exitPromise;
    }
  }

  logText() {
    try { return fs.readFileSync(path.join(this.logDir, 'astra.log'), 'utf8'); } catch { return ''; }
  }

  logLines() {
    return this.logText().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  }

  adminFetch(p, init = {}) {
    return fetch(`${this.admin}${p}`, {
      ...init, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(init.headers || {}) },
    });
  }
}

export async function startDaemon(opts = {}) {
  const d = new Daemon(opts);
  await d.start(opts);
  return d;
}

// Runs the binary to completion (for --version, --check-config, bad configuration).
export function runBinary(args, env = {}, cwd) {
  return new Promise((resolve) => {
    const p = spawn(BINARY, args, {
      env: { PATH: process.env.PATH, ASAN_OPTIONS: 'detect_leaks=1', ...env },
      cwd: cwd || tmpDir(), stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

// One raw HTTP/1.1 request; resolves {status, headers, body (Buffer), raw}.
export function rawRequest(port, text, { timeout = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks = [];
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('raw request timed out')); }, timeout);
    sock.on('connect', () => sock.write(text));
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(parseResponse(Buffer.concat(chunks)));
    });
  });
}

export function parseResponse(buf) {
  const sep = buf.indexOf('\r\n\r\n');
  const head = (sep >= 0 ? buf.subarray(0, sep) : buf).toString('latin1');
  const lines = head.split('\r\n');
  const status = Number((lines[0] || '').split(' ')[1] || 0);
  const headers = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status, headers, body: sep >= 0 ? buf.subarray(sep + 4) : Buffer.alloc(0), raw: buf };
}

export { sleep };
