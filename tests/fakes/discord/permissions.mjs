// Discord permission bits and the computation of developers/topics/permissions.mdx
// (§Permission Overwrites pseudocode). BigInt throughout: the bit set is wider than 32 bits.

export const P = {
  CREATE_INSTANT_INVITE: 1n << 0n,
  KICK_MEMBERS: 1n << 1n,
  BAN_MEMBERS: 1n << 2n,
  ADMINISTRATOR: 1n << 3n,
  MANAGE_CHANNELS: 1n << 4n,
  MANAGE_GUILD: 1n << 5n,
  ADD_REACTIONS: 1n << 6n,
  VIEW_AUDIT_LOG: 1n << 7n,
  PRIORITY_SPEAKER: 1n << 8n,
  STREAM: 1n << 9n,
  VIEW_CHANNEL: 1n << 10n,
  SEND_MESSAGES: 1n << 11n,
  SEND_TTS_MESSAGES: 1n << 12n,
  MANAGE_MESSAGES: 1n << 13n,
  EMBED_LINKS: 1n << 14n,
  ATTACH_FILES: 1n << 15n,
  READ_MESSAGE_HISTORY: 1n << 16n,
  MENTION_EVERYONE: 1n << 17n,
  USE_EXTERNAL_EMOJIS: 1n << 18n,
  VIEW_GUILD_INSIGHTS: 1n << 19n,
  CONNECT: 1n << 20n,
  SPEAK: 1n << 21n,
  MUTE_MEMBERS: 1n << 22n,
  DEAFEN_MEMBERS: 1n << 23n,
  MOVE_MEMBERS: 1n << 24n,
  USE_VAD: 1n << 25n,
  CHANGE_NICKNAME: 1n << 26n,
  MANAGE_NICKNAMES: 1n << 27n,
  MANAGE_ROLES: 1n << 28n,
  MANAGE_WEBHOOKS: 1n << 29n,
  MANAGE_GUILD_EXPRESSIONS: 1n << 30n,
  USE_APPLICATION_COMMANDS: 1n << 31n,
  REQUEST_TO_SPEAK: 1n << 32n,
  MANAGE_EVENTS: 1n << 33n,
  MANAGE_THREADS: 1n << 34n,
  CREATE_PUBLIC_THREADS: 1n << 35n,
  CREATE_PRIVATE_THREADS: 1n << 36n,
  USE_EXTERNAL_STICKERS: 1n << 37n,
  SEND_MESSAGES_IN_THREADS: 1n << 38n,
  USE_EMBEDDED_ACTIVITIES: 1n << 39n,
  MODERATE_MEMBERS: 1n << 40n,
  VIEW_CREATOR_MONETIZATION_ANALYTICS: 1n << 41n,
  USE_SOUNDBOARD: 1n << 42n,
  CREATE_GUILD_EXPRESSIONS: 1n << 43n,
  CREATE_EVENTS: 1n << 44n,
  USE_EXTERNAL_SOUNDS: 1n << 45n,
  SEND_VOICE_MESSAGES: 1n << 46n,
  SET_VOICE_CHANNEL_STATUS: 1n << 48n,
  SEND_POLLS: 1n << 49n,
  USE_EXTERNAL_APPS: 1n << 50n,
  PIN_MESSAGES: 1n << 51n,
  BYPASS_SLOWMODE: 1n << 52n,
};

export const ALL = Object.values(P).reduce((a, b) => a | b, 0n);

// What a new server's @everyone role holds in the Discord client today (roughly): members can
// read, write, react, use threads and apps; nothing that manages the server.
export const DEFAULT_EVERYONE = P.CREATE_INSTANT_INVITE | P.ADD_REACTIONS | P.STREAM | P.VIEW_CHANNEL
  | P.SEND_MESSAGES | P.SEND_TTS_MESSAGES | P.EMBED_LINKS | P.ATTACH_FILES | P.READ_MESSAGE_HISTORY
  | P.MENTION_EVERYONE | P.USE_EXTERNAL_EMOJIS | P.CONNECT | P.SPEAK | P.USE_VAD | P.CHANGE_NICKNAME
  | P.USE_APPLICATION_COMMANDS | P.REQUEST_TO_SPEAK | P.CREATE_PUBLIC_THREADS | P.CREATE_PRIVATE_THREADS
  | P.USE_EXTERNAL_STICKERS | P.SEND_MESSAGES_IN_THREADS | P.USE_EMBEDDED_ACTIVITIES | P.USE_SOUNDBOARD
  | P.USE_EXTERNAL_SOUNDS | P.SEND_VOICE_MESSAGES | P.SEND_POLLS | P.USE_EXTERNAL_APPS;

// Accepts what a request may carry: a decimal string, a number, a bigint; null/undefined = 0.
// Returns null for anything else so callers can reject it.
export function toBits(v) {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'bigint') return v >= 0n ? v : null;
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? BigInt(v) : null;
  if (typeof v === 'string' && /^\d{1,30}$/.test(v)) return BigInt(v);
  return null;
}

export function names(bits) {
  return Object.entries(P).filter(([, b]) => (bits & b) === b).map(([n]) => n);
}

// compute_base_permissions(): owner gets everything; @everyone | roles; ADMINISTRATOR = all.
// `extra` is the member's own grant from addMember({permissions}) (a fake-only convenience,
// applied like one more role).
export function basePermissions(guild, userId) {
  if (guild.ownerId === userId) return ALL;
  const member = guild.members.get(userId);
  let perms = guild.roles.get(guild.id)?.permissions ?? 0n;
  if (member) {
    for (const r of member.roles) perms |= guild.roles.get(r)?.permissions ?? 0n;
    perms |= member.extraPermissions ?? 0n;
  }
  if (perms & P.ADMINISTRATOR) return ALL;
  return perms;
}

// compute_overwrites(): @everyone overwrite, then role overwrites together, then the member's.
// Threads take their parent's overwrites (topics/permissions.mdx §Inherited Permissions).
export function channelPermissions(guild, channel, userId) {
  const base = basePermissions(guild, userId);
  if (base & P.ADMINISTRATOR) return ALL; // owners get ALL, which includes it
  const source = channel.isThread ? channel.parentChannel() : channel;
  const ow = source?.overwrites ?? new Map();
  let perms = base;
  const everyone = ow.get(guild.id);
  if (everyone) { perms &= ~everyone.deny; perms |= everyone.allow; }
  const member = guild.members.get(userId);
  let allow = 0n, deny = 0n;
  for (const r of member?.roles ?? []) {
    const o = ow.get(r);
    if (o) { allow |= o.allow; deny |= o.deny; }
  }
  perms &= ~deny; perms |= allow;
  const mine = ow.get(userId);
  if (mine) { perms &= ~mine.deny; perms |= mine.allow; }
  // Implicit denial: without VIEW_CHANNEL nothing else in the channel applies.
  if (!(perms & P.VIEW_CHANNEL)) return 0n;
  return perms;
}
