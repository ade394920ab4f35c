// The fake's world: applications (bots), users, guilds, roles, channels, threads, DMs and
// messages, and their JSON as Discord's API returns it (resources/*.mdx object tables).
// Gateway events that state changes cause go through `this.gateway`, set by server.mjs.
import { snowflake, botToken, hex, isoNow } from './ids.mjs';
import { P, DEFAULT_EVERYONE, basePermissions, channelPermissions, toBits } from './permissions.mjs';

export const CH = { GUILD_TEXT: 0, DM: 1, GUILD_VOICE: 2, GUILD_CATEGORY: 4, GUILD_ANNOUNCEMENT: 5,
  ANNOUNCEMENT_THREAD: 10, PUBLIC_THREAD: 11, PRIVATE_THREAD: 12, GUILD_FORUM: 15 };
export const INTENT = { GUILDS: 1 << 0, GUILD_MEMBERS: 1 << 1, GUILD_MESSAGES: 1 << 9,
  DIRECT_MESSAGES: 1 << 12, MESSAGE_CONTENT: 1 << 15 };
// Application flags that mean "this privileged intent is enabled" (resources/application.mdx).
export const APP_FLAG = { GATEWAY_PRESENCE_LIMITED: 1 << 13, GATEWAY_GUILD_MEMBERS_LIMITED: 1 << 15,
  GATEWAY_MESSAGE_CONTENT_LIMITED: 1 << 19, APPLICATION_COMMAND_BADGE: 1 << 23 };
export const MSG_FLAG = { SUPPRESS_EMBEDS: 1 << 2, EPHEMERAL: 1 << 6, LOADING: 1 << 7,
  SUPPRESS_NOTIFICATIONS: 1 << 12, IS_VOICE_MESSAGE: 1 << 13, IS_COMPONENTS_V2: 1 << 15 };

const THREAD_TYPES = new Set([CH.ANNOUNCEMENT_THREAD, CH.PUBLIC_THREAD, CH.PRIVATE_THREAD]);

export class Channel {
  constructor(state, fields) {
    this.state = state;
    Object.assign(this, {
      id: snowflake(), type: CH.GUILD_TEXT, guildId: null, name: null, position: 0, parentId: null,
      overwrites: new Map(), topic: null, nsfw: false, rateLimitPerUser: 0, lastMessageId: null,
      recipients: [], ownerId: null, threadMeta: null, threadMembers: null, deleted: false,
      flags: 0, messageIds: [], messageCount: 0, totalMessageSent: 0,
    }, fields);
  }

  get isThread() { return THREAD_TYPES.has(this.type); }
  get isText() { return this.type === CH.GUILD_TEXT || this.type === CH.GUILD_ANNOUNCEMENT || this.isThread || this.type === CH.DM; }
  parentChannel() { return this.parentId ? this.state.channels.get(this.parentId) : null; }
  guild() { return this.guildId ? this.state.guilds.get(this.guildId) : null; }

  overwritesJson() {
    return [...this.overwrites.values()].map((o) => ({ id: o.id, type: o.type, allow: o.allow.toString(), deny: o.deny.toString() }));
  }

  // forUserId: the user asking (a thread's `member` field is theirs).
  json(forUserId = null) {
    if (this.type === CH.DM) {
      return { id: this.id, type: this.type, last_message_id: this.lastMessageId, flags: this.flags,
        recipients: this.recipients.filter((u) => u !== forUserId).map((u) => this.state.userJson(u)) };
    }
    const j = { id: this.id, type: this.type, guild_id: this.guildId, name: this.name, flags: this.flags };
    if (this.isThread) {
      Object.assign(j, {
        parent_id: this.parentId, owner_id: this.ownerId, last_message_id: this.lastMessageId,
        rate_limit_per_user: this.rateLimitPerUser, message_count: this.messageCount,
        member_count: Math.min(50, this.threadMembers.size), total_message_sent: this.totalMessageSent,
        thread_metadata: { ...this.threadMeta },
      });
      const me = forUserId && this.threadMembers.get(forUserId);
      if (me) j.member = { id: this.id, user_id: forUserId, join_timestamp: me.joinTimestamp, flags: 0 };
      return j;
    }
    Object.assign(j, { position: this.position, permission_overwrites: this.overwritesJson(), parent_id: this.parentId });
    if (this.type !== CH.GUILD_CATEGORY) {
      Object.assign(j, { topic: this.topic, nsfw: this.nsfw, last_message_id: this.lastMessageId,
        rate_limit_per_user: this.rateLimitPerUser });
    }
    return j;
  }
}

export class State {
  constructor() {
    this.gateway = null;           // set by server.mjs; state changes dispatch through it
    this.apps = new Map();         // appId -> app
    this.appsByToken = new Map();  // token -> app (revoked tokens are removed)
    this.revoked = new Map();      // revoked token -> app
    this.users = new Map();        // userId -> user (bots included)
    this.guilds = new Map();
    this.channels = new Map();
    this.messages = new Map();     // messageId -> message record
    this.dms = new Map();          // `${a}:${b}` (sorted user ids) -> channel id
  }

  // ---- applications and users ----

  createApp({ name = 'Test Bot', privilegedIntents = 0, username } = {}) {
    const appId = snowflake();
    const bot = this.createUser({ username: username || name.toLowerCase().replace(/[^a-z0-9_.]/g, '') || 'bot', bot: true });
    let flags = APP_FLAG.APPLICATION_COMMAND_BADGE;
    if (privilegedIntents & INTENT.GUILD_MEMBERS) flags |= APP_FLAG.GATEWAY_GUILD_MEMBERS_LIMITED;
    if (privilegedIntents & (1 << 8)) flags |= APP_FLAG.GATEWAY_PRESENCE_LIMITED;
    if (privilegedIntents & INTENT.MESSAGE_CONTENT) flags |= APP_FLAG.GATEWAY_MESSAGE_CONTENT_LIMITED;
    const app = {
      id: appId, name, botUserId: bot.id, token: null, flags, privilegedIntents,
      verifyKey: hex(32), guilds: new Set(), globalCommands: [], guildCommands: new Map(),
      // gateway bookkeeping (gateway.mjs)
      sessions: new Set(), connections: [], identifies: [], identifyDay: { start: 0, count: 0 },
      silenced: false, stats: { identifies: 0, identifyRateLimited: 0, resumes: 0, heartbeats: 0, closes: [] },
      // REST bookkeeping (rest.mjs): when its revoked token first got a 401
      first401At: null,
    };
    bot.appId = appId;
    this.apps.set(appId, app);
    this.newToken(app);
    return app;
  }

  newToken(app) {
    if (app.token) this.appsByToken.delete(app.token);
    app.token = botToken(app.botUserId);
    this.appsByToken.set(app.token, app);
    return app.token;
  }

  revokeToken(token) {
    const app = this.appsByToken.get(token);
    if (!app) return false;
    this.appsByToken.delete(token);
    this.revoked.set(token, app);
    app.first401At = null;
    app.token = null;
    return app;
  }

  createUser({ username = 'user', globalName = null, bot = false } = {}) {
    const u = { id: snowflake(), username, globalName, bot, dmsClosed: false, appId: null };
    this.users.set(u.id, u);
    return u;
  }

  userJson(id) {
    const u = this.users.get(id);
    if (!u) return null;
    const j = { id: u.id, username: u.username, discriminator: '0', global_name: u.globalName, avatar: null,
      public_flags: 0, flags: 0, banner: null, accent_color: null, avatar_decoration_data: null,
      collectibles: null, primary_guild: null, clan: null };
    if (u.bot) j.bot = true;
    return j;
  }

  // ---- guilds ----

  createGuild({ name = 'Test Server', ownerId } = {}) {
    if (!ownerId) ownerId = this.createUser({ username: 'owner' }).id;
    if (!this.users.has(ownerId)) throw new Error(`createGuild: unknown owner ${ownerId}`);
    const id = snowflake();
    const guild = { id, name, ownerId, roles: new Map(), channelIds: [], members: new Map(), apps: new Set(),
      createdAt: Date.now(), systemChannelId: null, preferredLocale: 'pt-BR' };
    // The @everyone role has the guild's id (topics/permissions.mdx §Role Object).
    guild.roles.set(id, { id, name: '@everyone', permissions: DEFAULT_EVERYONE, position: 0, managed: false, botId: null });
    this.guilds.set(id, guild);
    this.addMember(id, ownerId);
    const general = this.createChannel(id, { name: 'general', type: CH.GUILD_TEXT });
    guild.systemChannelId = general.id;
    return this.guildSummary(guild);
  }

  guildSummary(g) {
    return { id: g.id, name: g.name, owner_id: g.ownerId, system_channel_id: g.systemChannelId,
      defaultChannelId: g.systemChannelId, everyoneRoleId: g.id,
      channels: g.channelIds.map((c) => this.channels.get(c).json()) };
  }

  needGuild(guildId) {
    const g = this.guilds.get(guildId);
    if (!g) throw new Error(`unknown guild ${guildId}`);
    return g;
  }

  createChannel(guildId, { name = 'channel', type = CH.GUILD_TEXT, parent_id = null, permission_overwrites = [], topic = null, position } = {}) {
    const g = this.needGuild(guildId);
    const ch = new Channel(this, { type, guildId, name, parentId: parent_id || null, topic,
      position: position ?? g.channelIds.length });
    for (const o of permission_overwrites || []) {
      ch.overwrites.set(String(o.id), { id: String(o.id), type: Number(o.type ?? 0), allow: toBits(o.allow) ?? 0n, deny: toBits(o.deny) ?? 0n });
    }
    this.channels.set(ch.id, ch);
    g.channelIds.push(ch.id);
    this.toGuildBots(g, 'CHANNEL_CREATE', (app) => this.canView(app, ch) ? ch.json() : null, INTENT.GUILDS);
    return ch;
  }

  createRole(guildId, { name = 'role', permissions = '0' } = {}) {
    const g = this.needGuild(guildId);
    const bits = toBits(permissions);
    if (bits === null) throw new Error(`createRole: bad permissions ${permissions}`);
    const role = { id: snowflake(), name, permissions: bits, position: g.roles.size, managed: false, botId: null };
    g.roles.set(role.id, role);
    this.toGuildBots(g, 'GUILD_ROLE_CREATE', () => ({ guild_id: g.id, role: this.roleJson(role) }), INTENT.GUILDS);
    return this.roleJson(role);
  }

  roleJson(r) {
    const j = { id: r.id, name: r.name, description: null, color: 0,
      colors: { primary_color: 0, secondary_color: null, tertiary_color: null }, hoist: false, icon: null,
      unicode_emoji: null, position: r.position, permissions: r.permissions.toString(), managed: r.managed,
      mentionable: false, flags: 0 };
    if (r.botId) j.tags = { bot_id: r.botId };
    return j;
  }

  addMember(guildId, userId, { roles = [], permissions } = {}) {
    const g = this.needGuild(guildId);
    if (!this.users.has(userId)) throw new Error(`addMember: unknown user ${userId}`);
    for (const r of roles) if (!g.roles.has(r)) throw new Error(`addMember: unknown role ${r}`);
    const extra = permissions === undefined ? 0n : toBits(permissions);
    if (extra === null) throw new Error(`addMember: bad permissions ${permissions}`);
    const existing = g.members.get(userId);
    const m = { userId, roles: [...roles], joinedAt: existing?.joinedAt || isoNow(), extraPermissions: extra };
    g.members.set(userId, m);
    if (!existing) this.toGuildBots(g, 'GUILD_MEMBER_ADD', () => ({ guild_id: g.id, ...this.memberJson(g, userId) }), INTENT.GUILD_MEMBERS);
    return this.memberJson(g, userId);
  }

  memberJson(g, userId, { withPermissionsIn = null } = {}) {
    const m = g.members.get(userId);
    if (!m) return null;
    const j = { user: this.userJson(userId), roles: [...m.roles], nick: null, avatar: null, banner: null,
      joined_at: m.joinedAt, premium_since: null, deaf: false, mute: false, flags: 0, pending: false,
      communication_disabled_until: null, unusual_dm_activity_until: null };
    if (withPermissionsIn) j.permissions = channelPermissions(g, withPermissionsIn, userId).toString();
    return j;
  }

  // The bot joins with the invite's permissions in a managed role named after it, as the OAuth2
  // bot flow does; then GUILD_CREATE goes to the app's sessions.
  addBotToGuild(appId, guildId, { permissions = '0' } = {}) {
    const app = this.apps.get(appId);
    if (!app) throw new Error(`addBotToGuild: unknown app ${appId}`);
    const g = this.needGuild(guildId);
    const bits = toBits(permissions);
    if (bits === null) throw new Error(`addBotToGuild: bad permissions ${permissions}`);
    const roles = [];
    if (bits) {
      const role = { id: snowflake(), name: app.name, permissions: bits, position: g.roles.size, managed: true, botId: app.botUserId };
      g.roles.set(role.id, role);
      roles.push(role.id);
    }
    g.members.set(app.botUserId, { userId: app.botUserId, roles, joinedAt: isoNow(), extraPermissions: 0n });
    g.apps.add(appId);
    app.guilds.add(guildId);
    this.gateway?.toApp(app, 'GUILD_CREATE', () => this.guildCreateJson(g, app), { guildId, intent: INTENT.GUILDS });
    return { guild_id: guildId, roles };
  }

  guildJson(g) {
    return {
      id: g.id, name: g.name, icon: null, icon_hash: null, splash: null, discovery_splash: null, owner_id: g.ownerId,
      afk_channel_id: null, afk_timeout: 300, widget_enabled: false, widget_channel_id: null,
      verification_level: 0, default_message_notifications: 0, explicit_content_filter: 0,
      roles: [...g.roles.values()].map((r) => this.roleJson(r)), emojis: [], features: [], mfa_level: 0,
      application_id: null, system_channel_id: g.systemChannelId, system_channel_flags: 0, rules_channel_id: null,
      max_presences: null, max_members: 500000, vanity_url_code: null, description: null, banner: null,
      premium_tier: 0, premium_subscription_count: 0, preferred_locale: g.preferredLocale,
      public_updates_channel_id: null, max_video_channel_users: 25, max_stage_video_channel_users: 50,
      nsfw_level: 0, stickers: [], premium_progress_bar_enabled: false, safety_alerts_channel_id: null,
      incidents_data: null,
    };
  }

  // GUILD_CREATE: the guild plus its channels, active threads the bot can see, and (without
  // GUILD_PRESENCES) only the bot itself as member (gateway-events.mdx §Guild Create).
  guildCreateJson(g, app) {
    const channels = [], threads = [];
    for (const cid of g.channelIds) {
      const c = this.channels.get(cid);
      if (c.deleted) continue;
      if (c.isThread) {
        if (!c.threadMeta.archived && this.canView(app, c)) {
          const t = c.json(app.botUserId); delete t.guild_id; threads.push(t);
        }
      } else {
        const j = c.json(); delete j.guild_id; channels.push(j);
      }
    }
    const me = g.members.get(app.botUserId);
    return {
      ...this.guildJson(g), joined_at: me?.joinedAt, large: false, unavailable: false, lazy: true,
      member_count: g.members.size, voice_states: [], members: [this.memberJson(g, app.botUserId)],
      channels, threads, presences: [], stage_instances: [], guild_scheduled_events: [], soundboard_sounds: [],
      embedded_activities: [], application_command_counts: {},
    };
  }

  // Sends an event to every bot in the guild; `make(app)` builds the payload or returns null
  // to skip that bot.
  toGuildBots(g, t, make, intent) {
    if (!this.gateway) return;
    for (const appId of g.apps) {
      const app = this.apps.get(appId);
      if (app) this.gateway.toApp(app, t, () => make(app), { guildId: g.id, intent });
    }
  }

  // ---- permissions as seen by a bot ----

  // DMs: a bot can read and write its own DMs (app_permissions note in receiving-and-responding.mdx).
  static DM_PERMS = P.VIEW_CHANNEL | P.SEND_MESSAGES | P.READ_MESSAGE_HISTORY | P.ATTACH_FILES | P.EMBED_LINKS
    | P.MENTION_EVERYONE | P.USE_EXTERNAL_EMOJIS | P.ADD_REACTIONS;

  userPerms(userId, ch) {
    if (ch.type === CH.DM) return ch.recipients.includes(userId) ? State.DM_PERMS : 0n;
    const g = ch.guild();
    if (!g || !g.members.has(userId)) return 0n;
    let perms = channelPermissions(g, ch, userId);
    // Private threads: only members and those with MANAGE_THREADS see them (channel.mdx).
    if (ch.type === CH.PRIVATE_THREAD && !ch.threadMembers.has(userId) && !(perms & P.MANAGE_THREADS)) perms = 0n;
    return perms;
  }

  botPerms(app, ch) { return this.userPerms(app.botUserId, ch); }
  canView(app, ch) { return (this.botPerms(app, ch) & P.VIEW_CHANNEL) !== 0n; }
  botGuildPerms(app, g) { return g.members.has(app.botUserId) ? basePermissions(g, app.botUserId) : 0n; }

  // ---- DMs ----

  dmChannel(userA, userB, create = true) {
    const key = [userA, userB].sort().join(':');
    let id = this.dms.get(key);
    if (!id && create) {
      const ch = new Channel(this, { type: CH.DM, recipients: [userA, userB] });
      this.channels.set(ch.id, ch);
      this.dms.set(key, ch.id);
      id = ch.id;
    }
    return id ? this.channels.get(id) : null;
  }

  mutualGuild(userA, userB) {
    for (const g of this.guilds.values()) if (g.members.has(userA) && g.members.has(userB)) return g;
    return null;
  }

  // ---- messages ----

  // Stores a message and returns its record; `json` is what the API returns for it.
  addMessage(ch, { authorId, app = null, body, type = 0, flags = 0, attachments = [], webhookId = null,
    interaction = null, ephemeralFor = null, nonce }) {
    const id = snowflake();
    const json = {
      type, content: body.content ?? '', mentions: [], mention_roles: [], attachments,
      embeds: normEmbeds(body.embeds), timestamp: isoNow(), edited_timestamp: null, flags,
      components: assignComponentIds(clone(body.components) ?? []), id, channel_id: ch.id,
      author: this.userJson(authorId), pinned: false, mention_everyone: false, tts: !!body.tts,
    };
    if (nonce !== undefined && nonce !== null) json.nonce = nonce;
    if (app && (webhookId || interaction)) json.application_id = app.id;
    if (webhookId) json.webhook_id = webhookId;
    if (interaction) json.interaction_metadata = interaction;
    if (ch.isThread) json.position = ch.totalMessageSent;
    const rec = { id, channelId: ch.id, guildId: ch.guildId, authorId, appId: app?.id ?? null, json,
      history: [], deleted: false, ephemeralFor, createdAt: Date.now(), enforceNonce: !!body.enforce_nonce };
    this.messages.set(id, rec);
    ch.messageIds.push(id);
    if (!ephemeralFor) {
      ch.lastMessageId = id;
      if (ch.isThread) { ch.messageCount++; ch.totalMessageSent++; }
    }
    return rec;
  }

  // Applies an edit body (content/embeds/components/flags/attachments); keeps the old version.
  editMessage(rec, body, { flags, attachments } = {}) {
    rec.history.push(clone(rec.json));
    const j = rec.json;
    if ('content' in body) j.content = body.content ?? '';
    if ('embeds' in body) j.embeds = normEmbeds(body.embeds);
    if ('components' in body) j.components = assignComponentIds(clone(body.components) ?? []);
    if (flags !== undefined) j.flags = flags;
    if (attachments !== undefined) j.attachments = attachments;
    j.edited_timestamp = isoNow();
    return rec;
  }

  // MESSAGE_CREATE/UPDATE go to bots in the channel with GUILD_MESSAGES (guilds) or
  // DIRECT_MESSAGES (DMs); without MESSAGE_CONTENT the content fields are blanked except for
  // the bot's own messages and DMs (gateway.mdx §Message Content Intent).
  dispatchMessage(t, rec) {
    if (!this.gateway || rec.ephemeralFor) return;
    const ch = this.channels.get(rec.channelId);
    const apps = [];
    if (ch.type === CH.DM) {
      for (const uid of ch.recipients) {
        const u = this.users.get(uid);
        if (u?.appId) apps.push(this.apps.get(u.appId));
      }
    } else {
      for (const appId of ch.guild()?.apps ?? []) {
        const app = this.apps.get(appId);
        if (app && this.canView(app, ch)) apps.push(app);
      }
    }
    const intent = ch.type === CH.DM ? INTENT.DIRECT_MESSAGES : INTENT.GUILD_MESSAGES;
    for (const app of apps) {
      this.gateway.toApp(app, t, (session) => {
        const d = clone(rec.json);
        if (ch.guildId) {
          d.guild_id = ch.guildId;
          const g = ch.guild();
          if (g.members.has(rec.authorId)) {
            const m = this.memberJson(g, rec.authorId); delete m.user; d.member = m;
          }
        }
        const own = rec.authorId === app.botUserId;
        const mentioned = (d.mentions || []).some((u) => u.id === app.botUserId);
        if (!own && ch.type !== CH.DM && !mentioned && !(session.intents & INTENT.MESSAGE_CONTENT)) {
          d.content = ''; d.embeds = []; d.attachments = []; d.components = [];
        }
        return d;
      }, { guildId: ch.guildId, intent });
    }
  }

  messageView(rec) {
    return { ...clone(rec.json), _deleted: rec.deleted, _ephemeralFor: rec.ephemeralFor,
      _history: rec.history.map(clone), _appId: rec.appId };
  }

  // ---- threads ----

  createThread(parent, app, { name, type, invitable, auto_archive_duration, rate_limit_per_user }) {
    const th = new Channel(this, {
      type, guildId: parent.guildId, name, parentId: parent.id, ownerId: app.botUserId,
      rateLimitPerUser: rate_limit_per_user ?? 0, threadMembers: new Map(),
      threadMeta: { archived: false, auto_archive_duration: auto_archive_duration ?? 4320,
        archive_timestamp: isoNow(), locked: false, create_timestamp: isoNow() },
    });
    if (type === CH.PRIVATE_THREAD) th.threadMeta.invitable = invitable ?? true;
    th.threadMembers.set(app.botUserId, { joinTimestamp: isoNow() });
    this.channels.set(th.id, th);
    parent.guild().channelIds.push(th.id);
    return th;
  }
}

export function clone(v) {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}

// The API always returns embeds as type "rich" (message.mdx §Create Message limitations).
function normEmbeds(embeds) {
  return (embeds || []).map((e) => ({ ...clone(e), type: 'rich' }));
}

// Discord numbers components that came without an `id`, in order, skipping ids already used in
// the message (components/reference.mdx §Anatomy of a Component).
export function assignComponentIds(components) {
  const used = new Set();
  const all = [];
  const walk = (list) => {
    for (const c of list || []) {
      if (!c || typeof c !== 'object') continue;
      all.push(c);
      if (Number.isInteger(c.id) && c.id > 0) used.add(c.id);
      walk(c.components);
      if (c.accessory) walk([c.accessory]);
      if (c.component) walk([c.component]);
    }
  };
  walk(components);
  let next = 1;
  for (const c of all) {
    if (Number.isInteger(c.id) && c.id > 0) continue;
    while (used.has(next)) next++;
    c.id = next; used.add(next);
  }
  return components;
}

// Depth-first list of every component of a message or modal (children, accessories, labels).
export function flattenComponents(components, out = []) {
  for (const c of components || []) {
    if (!c || typeof c !== 'object') continue;
    out.push(c);
    if (Array.isArray(c.components)) flattenComponents(c.components, out);
    if (c.accessory) flattenComponents([c.accessory], out);
    if (c.component) flattenComponents([c.component], out);
  }
  return out;
}
