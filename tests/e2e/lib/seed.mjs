// Puts records into a data directory before astrad starts, the way an operator's existing
// data would be: instances with sealed bot tokens (AES-256-GCM under DATA_ENCRYPTION_KEY,
// the daemon's own format: base64("v1" || nonce || ciphertext || tag), "v1" authenticated).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const DATA_KEY = 'ab'.repeat(32);

export function sealToken(token, keyHex = DATA_KEY) {
  const nonce = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-256-gcm', Buffer.from(keyHex, 'hex'), nonce);
  c.setAAD(Buffer.from('v1'));
  const ct = Buffer.concat([c.update(token, 'utf8'), c.final()]);
  return Buffer.concat([Buffer.from('v1'), nonce, ct, c.getAuthTag()]).toString('base64');
}

export const sha256hex = (s) => crypto.createHash('sha256').update(s).digest('hex');

// An instance record as the portal will write it.
export function instanceRecord({ id = crypto.randomUUID(), app, name = 'Loja', desiredState = 'running', apiKey, guildId, ownerId = 'owner-1' }) {
  const r = {
    id, name, ownerId, desiredState, createdAt: Date.now(),
    botToken: sealToken(app.token), botTokenHash: sha256hex(app.token),
    botId: app.botUserId, applicationId: app.appId, botName: app.name,
  };
  if (apiKey) r.apiKeyHash = sha256hex(apiKey);
  if (guildId) r.guildId = guildId;
  return r;
}

export function seedInstances(dataDir, records) {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, 'portal.json');
  const doc = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : { version: 1, seq: 0 };
  doc.instances = doc.instances || {};
  for (const r of records) doc.instances[r.id] = r;
  fs.writeFileSync(file, JSON.stringify(doc));
}
