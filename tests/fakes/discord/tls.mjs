// A throwaway certificate authority for TLS mode, made with the openssl CLI at start: the CA
// signs a server certificate for 127.0.0.1 and localhost (subjectAltName IP and DNS), so the
// daemon can verify the fake exactly as it verifies discord.com, given TLS_CA_FILE=ca.pem.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function makeCertificates() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-discord-tls-'));
  const f = (n) => path.join(dir, n);
  const openssl = (...args) => run('openssl', args, { cwd: dir });
  await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'),
    '-days', '2', '-subj', '/CN=Astra Fake Discord Test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'),
    '-subj', '/CN=127.0.0.1');
  fs.writeFileSync(f('server.ext'), [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ].join('\n') + '\n');
  await openssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'),
    '-CAcreateserial', '-out', f('server.pem'), '-days', '2', '-sha256', '-extfile', f('server.ext'));
  return {
    dir,
    caFile: f('ca.pem'),
    key: fs.readFileSync(f('server.key')),
    cert: fs.readFileSync(f('server.pem')),
    ca: fs.readFileSync(f('ca.pem')),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
