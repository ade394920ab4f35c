// A command-line wrapper around the fake Mercado Pago, for C tests and benchmarks that spawn it:
//
//   node tests/fakes/mercadopago/cli.mjs [--access-token T] [--webhook-secret S] [--port N] [--tls]
//                                        [--webhook-time-scale F] [--webhook-timeout-ms N]
//                                        [--no-ipn] [--no-notify-on-create]
//
// prints one JSON line {"apiBase", "port", "caFile", "control", "accessToken", "webhookSecret"}
// on stdout once the fake listens, then runs until its stdin closes (the parent exited or closed
// the pipe) or it gets SIGTERM/SIGINT. Drive it with POST <control><method> (control.mjs).
import { startFakeMercadoPago } from './server.mjs';

function parseArgs(argv) {
  const opts = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const str = () => {
      const v = argv[++i];
      if (v === undefined || v === '') throw new Error(`${a} needs a value`);
      return v;
    };
    const num = () => {
      const v = Number(str());
      if (!Number.isFinite(v) || v < 0) throw new Error(`${a} needs a non-negative number`);
      return v;
    };
    if (a === '--access-token') opts.accessToken = str();
    else if (a === '--webhook-secret') opts.webhookSecret = str();
    else if (a === '--port') opts.port = num();
    else if (a === '--tls') opts.tls = true;
    else if (a === '--webhook-time-scale') opts.webhookTimeScale = num();
    else if (a === '--webhook-timeout-ms') opts.webhookTimeoutMs = num();
    else if (a === '--no-ipn') opts.ipn = false;
    else if (a === '--no-notify-on-create') opts.notifyOnCreate = false;
    else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(`cli.mjs: ${e.message}`);
  process.exit(2);
}

const fake = await startFakeMercadoPago(opts);
process.stdout.write(JSON.stringify({
  apiBase: fake.apiBase, port: fake.port, caFile: fake.caFile, control: fake.controlBase,
  accessToken: fake.opts.accessToken, webhookSecret: fake.opts.webhookSecret,
}) + '\n');

let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  const n = fake.violations().length;
  // Not fatal here (the caller asserts through /_control/violations); useful in test logs.
  if (n) console.error(`# fake-mercadopago: ${n} violation(s) recorded`);
  await fake.close().catch(() => {});
  process.exit(code);
}

process.on('SIGTERM', () => stop(0));
process.on('SIGINT', () => stop(0));
// The parent holds our stdin: when it exits (even by a crash) the pipe closes and we stop.
process.stdin.on('end', () => stop(0));
process.stdin.on('error', () => stop(0));
process.stdin.resume();
