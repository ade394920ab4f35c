// Identifiers shaped like Discord's, so that a daemon which parses them (timestamps out of
// snowflakes, the user id out of a token) sees what it would see in production.
import crypto from 'node:crypto';

// Discord's epoch: the first second of 2015 (developers/reference.mdx §Snowflakes).
export const DISCORD_EPOCH = 1420070400000n;

// A snowflake is (ms since the Discord epoch) << 22 | worker << 17 | process << 12 | increment.
// Ids are made strictly increasing (a burst within one millisecond borrows the next one) so two
// objects never share an id and ids sort by creation like Discord's.
let last = 0n;
const WORKER = 1n, PROCESS = 0n;
export function snowflake(now = Date.now()) {
  let id = ((BigInt(now) - DISCORD_EPOCH) << 22n) | (WORKER << 17n) | (PROCESS << 12n);
  if (id <= last) id = last + 1n;
  last = id;
  return id.toString();
}

export function snowflakeTime(id) {
  return Number((BigInt(id) >> 22n) + DISCORD_EPOCH);
}

const URLSAFE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
export function randomChars(n) {
  const bytes = crypto.randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += URLSAFE[bytes[i] & 63];
  return s;
}

// Bot tokens: base64(bot user id) '.' 6 chars (a timestamp in Discord's) '.' 27+ chars (HMAC).
// Discord's base64 has no padding.
export function botToken(botUserId) {
  const head = Buffer.from(String(botUserId)).toString('base64').replace(/=+$/, '');
  return `${head}.${randomChars(6)}.${randomChars(38)}`;
}

// Interaction tokens are long opaque strings ("aW50ZXJhY3Rpb246...").
export function interactionToken(interactionId) {
  const head = Buffer.from(`interaction:${interactionId}:`).toString('base64').replace(/=+$/, '');
  return head + randomChars(120);
}

// Gateway session ids are 32 hex characters.
export function sessionId() {
  return crypto.randomBytes(16).toString('hex');
}

export function hex(n) {
  return crypto.randomBytes(n).toString('hex');
}

export function isoNow(ms = Date.now()) {
  return new Date(ms).toISOString().replace('Z', '+00:00');
}
