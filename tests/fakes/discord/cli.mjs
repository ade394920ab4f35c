// A tiny command-line wrapper around the fake Discord, for C tests and benchmarks that spawn
// it as a child process:
//
//   node tests/fakes/discord/cli.mjs [--tls] [--heartbeat-interval MS] [--max-concurrency N]
//                                    [--port N]
//
// prints one JSON line {"apiBase", "port", "caFile", "gateway", "control"} on stdout once the
// fake listens, then runs until its stdin closes (the parent exited or closed the pipe) or it
// gets SIGTERM/SIGINT. The fake is driven over HTTP: POST <control><method> (control.mjs).
import { startFakeDiscord } from './server.mjs';

function parseArgs(argv) {
  const opts = { tls: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${a} needs a non-negative integer`);
      return v;
    };
    if (a === '--tls') opts.tls = true;
    else if (a === '--heartbeat-interval') opts.heartbeatInterval = num();
    else if (a === '--max-concurrency') opts.maxConcurrency = num();
    else if (a === '--port') opts.port = num();
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

const fake = await startFakeDiscord(opts);
process.stdout.write(JSON.stringify({
  apiBase: fake.apiBase, port: fake.port, caFile: fake.caFile,
  gateway: fake.gatewayUrl, control: `${fake.httpBase}/_control/`,
}) + '\n');

let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  if (fake.violations.length) {
    // Not fatal here (the caller asserts through /_control/violations); useful in test logs.
    console.error(`# fake-discord: ${fake.violations.length} violation(s) recorded`);
  }
  await fake.close().catch(() => {});
  process.exit(code);
}

process.on('SIGTERM', () => stop(0));
process.on('SIGINT', () => stop(0));
// The parent holds our stdin: when it exits (even by a crash) the pipe closes and we stop.
process.stdin.on('end', () => stop(0));
process.stdin.on('error', () => stop(0));
process.stdin.resume();
