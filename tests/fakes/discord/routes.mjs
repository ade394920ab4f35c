// The REST routes the fake implements and what each does, after the pipeline in rest.mjs has
// authenticated, rate-limited, parsed and schema-validated the request. Each handler checks
// what Discord checks (existence, access, permissions, the §4 rules) in that order, changes
// the state, dispatches the gateway events Discord would, and returns {status, body}.
//
// Route options: auth ('bot' | 'none'), major (top-level resource parameters that key the
// bucket), bucket (default limit), noGlobal (interaction endpoints: not in the 50/s),
// body (has a JSON body), files (multipart allowed), validateInHandler (the handler decides
// when to run schema validation), specTemplate (spec path when it differs).
import { E } from './rest.mjs';
import { checkMessage, checkModal, checkCommands, CREATE_FLAGS, CALLBACK_FLAGS, len } from './rules.mjs';
import { CH, MSG_FLAG, INTENT, clone } from './state.mjs';
import { P, toBits } from './permissions.mjs';
import { snowflake, isoNow } from './ids.mjs';
import { ITYPE } from './interactions.mjs';

const B = (limit, sec) => ({ limit, resetAfterMs: sec * 1000 });
const FOLLOWUP_FLAGS = MSG_FLAG.SUPPRESS_EMBEDS | MSG_FLAG.EPHEMERAL | MSG_FLAG.SUPPRESS_NOTIFICATIONS | MSG_FLAG.IS_COMPONENTS_V2;
const AUTO_ARCHIVE = new Set([60, 1440, 4320, 10080]);

export function buildRoutes(fake) {
  const st = fake.state;
  const ix = fake.ix;
  const opts = fake.opts;

  const route = (method, template, handler, o = {}) => ({ method, template, handler, auth: 'bot', major: null,
    bucket: B(5, 5), body: false, files: false, noGlobal: false, ...o });

  // ---- shared checks ----

  const fail = (problems) => { if (problems.length) throw E.formBody(problems); };

  function channel(id) {
    const ch = st.channels.get(id);
    if (!ch || ch.deleted) throw E.unknownChannel();
    return ch;
  }

  // The bot must see the channel: a DM it is in, or a guild channel it has VIEW_CHANNEL in.
  function viewable(app, ch) {
    if (ch.type === CH.DM) {
      if (!ch.recipients.includes(app.botUserId)) throw E.missingAccess();
      return st.botPerms(app, ch);
    }
    const perms = st.botPerms(app, ch);
    if (!(perms & P.VIEW_CHANNEL)) throw E.missingAccess();
    return perms;
  }

  function guildOf(app, id) {
    const g = st.guilds.get(id);
    if (!g) throw E.unknownGuild();
    if (!g.members.has(app.botUserId)) throw E.missingAccess();
    return g;
  }

  function isEmpty(body, files) {
    const has = (v) => v !== undefined && v !== null;
    return !(typeof body.content === 'string' && body.content.trim())
      && !(Array.isArray(body.embeds) && body.embeds.length) && !(Array.isArray(body.sticker_ids) && body.sticker_ids.length)
      && !(Array.isArray(body.components) && body.components.length) && !files.length && !has(body.poll)
      && !has(body.shared_client_theme);
  }

  // files[n] parts + the `attachments` metadata (developers/reference.mdx §Uploading Files).
  // keep: attachments of the message being edited that may be retained by id.
  function attachments(ctx, ch, keep = null, meta = ctx.body?.attachments) {
    const files = new Map();
    for (const f of ctx.files) files.set(f.name === 'file' ? '0' : /\d+/.exec(f.name)[0], f);
    if (files.size > 10) fail([{ path: ['files'], code: 'BASE_TYPE_MAX_LENGTH', message: 'At most 10 files.' }]);
    if (!Array.isArray(meta)) meta = null;
    const out = [], problems = [];
    const store = (f, a = {}) => {
      const id = snowflake();
      const filename = a.filename || f.filename;
      const url = `${fake.httpBase}/attachments/${ch.id}/${id}/${encodeURIComponent(filename)}`;
      fake.files.set(`${ch.id}/${id}`, { data: f.data, contentType: f.contentType });
      const att = { id, filename, size: f.data.length, url, proxy_url: url, content_type: f.contentType };
      if (a.description) att.description = a.description;
      if (a.title) att.title = a.title;
      return att;
    };
    if (meta) {
      meta.forEach((a, i) => {
        const key = String(a?.id);
        if (files.has(key)) { out.push(store(files.get(key), a)); files.delete(key); return; }
        const old = keep?.find((x) => x.id === key);
        if (old) { out.push(old); return; }
        problems.push({ path: ['attachments', i, 'id'], code: 'ATTACHMENT_NOT_FOUND', message: `No files[${key}] part and no attachment ${key} on the message.` });
      });
      fail(problems);
      return out;
    }
    for (const f of files.values()) out.push(store(f));
    return keep ? [...keep, ...out] : out;
  }

  function canSend(app, ch, body) {
    if (ch.type === CH.DM) {
      viewable(app, ch);
      const other = ch.recipients.find((u) => u !== app.botUserId);
      const u = st.users.get(other);
      // DMs closed, the other side is a bot, or no shared server: 50007.
      if (!u || u.dmsClosed || u.bot || !st.mutualGuild(app.botUserId, other)) throw E.cannotDM();
      return;
    }
    const perms = viewable(app, ch);
    if (!ch.isText) throw E.nonText();
    if (ch.isThread) {
      if (ch.threadMeta.locked && !(perms & P.MANAGE_THREADS)) throw E.missingPermissions();
      if (!(perms & P.SEND_MESSAGES_IN_THREADS)) throw E.missingPermissions();
      if (ch.threadMeta.archived) ch.threadMeta.archived = false;   // sending unarchives
    } else if (!(perms & P.SEND_MESSAGES)) throw E.missingPermissions();
    if (body.tts && !(perms & P.SEND_TTS_MESSAGES)) throw E.missingPermissions();
    if (body.message_reference && !(perms & P.READ_MESSAGE_HISTORY)) throw E.missingPermissions();
  }

  // ---- gateway, users, applications ----

  function gatewayBot(ctx) {
    const app = ctx.app;
    const day = app.identifyDay;
    const resetAfter = day.start ? Math.max(0, day.start + 86400000 - Date.now()) : 86400000;
    const used = day.start && Date.now() - day.start < 86400000 ? day.count : 0;
    return { status: 200, body: { url: `${fake.wsBase}/gateway`, shards: 1,
      session_start_limit: { total: opts.identifyDailyLimit, remaining: opts.identifyDailyLimit - used, reset_after: resetAfter, max_concurrency: opts.maxConcurrency } } };
  }

  function me(ctx) {
    return { status: 200, body: { ...st.userJson(ctx.app.botUserId), mfa_enabled: false, locale: 'en-US', premium_type: 0, email: null, verified: true, bio: '' } };
  }

  function application(ctx) {
    const app = ctx.app;
    const owner = st.userJson(app.botUserId);
    return { status: 200, body: {
      id: app.id, name: app.name, icon: null, description: '', summary: '', type: null, hook: true,
      bot_public: true, bot_require_code_grant: false, verify_key: app.verifyKey, flags: app.flags,
      bot: st.userJson(app.botUserId), owner: { ...owner, id: app.id, username: `${app.name}-owner`, bot: undefined },
      team: null, redirect_uris: [], interactions_endpoint_url: null, approximate_guild_count: app.guilds.size,
      integration_types_config: { 0: { oauth2_install_params: { scopes: ['applications.commands', 'bot'], permissions: '0' } } },
      is_monetized: false, tags: [],
    } };
  }

  // ---- messages ----

  function createMessage(ctx) {
    const app = ctx.app, body = ctx.body;
    const ch = channel(ctx.params.channel_id);
    canSend(app, ch, body);
    fail(checkMessage(body, { mode: 'create', allowedFlags: CREATE_FLAGS }));
    if (isEmpty(body, ctx.files)) throw E.emptyMessage();
    if (body.message_reference?.message_id) {
      const ref = st.messages.get(String(body.message_reference.message_id));
      if (!ref || ref.deleted) throw E.unknownMessage();
    }
    // enforce_nonce: the same author and nonce within a few minutes returns the first message.
    if (body.enforce_nonce && body.nonce !== undefined && body.nonce !== null) {
      for (let i = ch.messageIds.length - 1; i >= 0; i--) {
        const m = st.messages.get(ch.messageIds[i]);
        if (Date.now() - m.createdAt > 5 * 60000) break;
        if (m.authorId === app.botUserId && m.json.nonce === body.nonce && !m.deleted) return { status: 200, body: clone(m.json) };
      }
    }
    const atts = attachments(ctx, ch);
    const rec = st.addMessage(ch, { authorId: app.botUserId, app, body, flags: body.flags || 0, attachments: atts, nonce: body.nonce });
    if (body.message_reference) { rec.json.type = 19; rec.json.message_reference = { ...body.message_reference, channel_id: ch.id }; }
    st.dispatchMessage('MESSAGE_CREATE', rec);
    return { status: 200, body: clone(rec.json) };
  }

  function messageIn(ch, id) {
    const rec = st.messages.get(id);
    if (!rec || rec.deleted || rec.channelId !== ch.id) throw E.unknownMessage();
    return rec;
  }

  function getMessage(ctx) {
    const ch = channel(ctx.params.channel_id);
    const perms = viewable(ctx.app, ch);
    if (!(perms & P.READ_MESSAGE_HISTORY)) throw E.missingAccess();
    const rec = messageIn(ch, ctx.params.message_id);
    if (rec.ephemeralFor) throw E.unknownMessage();
    return { status: 200, body: clone(rec.json) };
  }

  function listMessages(ctx) {
    const ch = channel(ctx.params.channel_id);
    const perms = viewable(ctx.app, ch);
    if (!(perms & P.READ_MESSAGE_HISTORY)) return { status: 200, body: [] };
    const limit = Math.min(100, Math.max(1, Number(ctx.query.get('limit') || 50)));
    const before = ctx.query.get('before'), after = ctx.query.get('after');
    let list = ch.messageIds.map((id) => st.messages.get(id)).filter((m) => !m.deleted && !m.ephemeralFor);
    if (before) list = list.filter((m) => BigInt(m.id) < BigInt(before));
    if (after) list = list.filter((m) => BigInt(m.id) > BigInt(after));
    list = after ? list.slice(0, limit) : list.slice(-limit);
    return { status: 200, body: list.reverse().map((m) => clone(m.json)) };
  }

  // Flags on edits: SUPPRESS_EMBEDS toggles, IS_COMPONENTS_V2 can be set but not removed,
  // other changes are ignored (message.mdx §Edit Message).
  function editedFlags(old, requested) {
    if (!Number.isInteger(requested)) return old;
    let f = old;
    f = (requested & MSG_FLAG.SUPPRESS_EMBEDS) ? f | MSG_FLAG.SUPPRESS_EMBEDS : f & ~MSG_FLAG.SUPPRESS_EMBEDS;
    if (requested & MSG_FLAG.IS_COMPONENTS_V2) f |= MSG_FLAG.IS_COMPONENTS_V2;
    return f;
  }

  function editMessage(ctx) {
    const app = ctx.app, body = ctx.body;
    const ch = channel(ctx.params.channel_id);
    const perms = viewable(app, ch);
    const rec = messageIn(ch, ctx.params.message_id);
    if (rec.ephemeralFor) throw E.unknownMessage();
    if (rec.authorId !== app.botUserId) {
      const onlyFlags = Object.keys(body).every((k) => k === 'flags');
      if (!onlyFlags) throw E.notAuthor();
      if (!(perms & P.MANAGE_MESSAGES)) throw E.missingPermissions();
    }
    if (ch.isThread && ch.threadMeta.locked && !(perms & P.MANAGE_THREADS)) throw E.missingPermissions();
    fail(checkMessage(body, { mode: 'edit', existingFlags: rec.json.flags }));
    const atts = ('attachments' in body || ctx.files.length) ? attachments(ctx, ch, rec.json.attachments) : undefined;
    st.editMessage(rec, body, { flags: editedFlags(rec.json.flags, body.flags), attachments: atts });
    st.dispatchMessage('MESSAGE_UPDATE', rec);
    return { status: 200, body: clone(rec.json) };
  }

  function deleteMessage(ctx) {
    const app = ctx.app;
    const ch = channel(ctx.params.channel_id);
    const perms = viewable(app, ch);
    const rec = messageIn(ch, ctx.params.message_id);
    if (rec.ephemeralFor) throw E.unknownMessage();
    if (rec.authorId !== app.botUserId && (ch.type === CH.DM || !(perms & P.MANAGE_MESSAGES))) throw E.missingPermissions();
    removeMessage(rec, ch);
    return { status: 204 };
  }

  function removeMessage(rec, ch) {
    rec.deleted = true;
    if (ch.isThread) ch.messageCount = Math.max(0, ch.messageCount - 1);
    if (!rec.ephemeralFor && fake.gateway) {
      const d = { id: rec.id, channel_id: ch.id };
      if (ch.guildId) d.guild_id = ch.guildId;
      const apps = ch.type === CH.DM ? ch.recipients.map((u) => st.users.get(u)?.appId).filter(Boolean)
        : [...(ch.guild()?.apps ?? [])].filter((a) => st.canView(st.apps.get(a), ch));
      for (const a of apps) fake.gateway.toApp(st.apps.get(a), 'MESSAGE_DELETE', () => d,
        { guildId: ch.guildId, intent: ch.type === CH.DM ? INTENT.DIRECT_MESSAGES : INTENT.GUILD_MESSAGES });
    }
  }

  // ---- channels, threads, permissions ----

  function getChannel(ctx) {
    const ch = channel(ctx.params.channel_id);
    viewable(ctx.app, ch);
    return { status: 200, body: ch.json(ctx.app.botUserId) };
  }

  function channelEvent(ch, t) {
    const g = ch.guild();
    if (!g) return;
    st.toGuildBots(g, t, (app) => (t.endsWith('DELETE') || st.canView(app, ch) ? ch.json(app.botUserId) : null), INTENT.GUILDS);
  }

  function deleteChannel(ctx) {
    const app = ctx.app;
    const ch = channel(ctx.params.channel_id);
    const perms = viewable(app, ch);
    if (ch.type === CH.DM) { return { status: 200, body: ch.json(app.botUserId) }; }   // "close" a DM
    if (!(perms & (ch.isThread ? P.MANAGE_THREADS : P.MANAGE_CHANNELS))) throw E.missingPermissions();
    ch.deleted = true;
    const g = ch.guild();
    if (ch.type === CH.GUILD_CATEGORY) {
      for (const cid of g.channelIds) {
        const c = st.channels.get(cid);
        if (c.parentId === ch.id && !c.deleted) { c.parentId = null; channelEvent(c, 'CHANNEL_UPDATE'); }
      }
    }
    if (ch.isThread) {
      st.toGuildBots(g, 'THREAD_DELETE', () => ({ id: ch.id, guild_id: g.id, parent_id: ch.parentId, type: ch.type }), INTENT.GUILDS);
    } else {
      channelEvent(ch, 'CHANNEL_DELETE');
    }
    return { status: 200, body: ch.json(app.botUserId) };
  }

  // PATCH /channels/{id} (channel.mdx §Modify Channel), the subset bots use to close a cart:
  // a thread's name, archived, locked (and auto_archive_duration); a guild channel's name.
  // Locking, or touching a thread the bot did not create, needs MANAGE_THREADS; the thread's
  // creator may rename and (un)archive it. Other fields are refused as not implemented.
  function modifyChannel(ctx) {
    const app = ctx.app, body = ctx.body;
    const ch = channel(ctx.params.channel_id);
    const perms = viewable(app, ch);
    const allowed = ch.isThread ? ['name', 'archived', 'locked', 'auto_archive_duration'] : ['name'];
    const problems = [];
    for (const k of Object.keys(body)) {
      if (!allowed.includes(k)) problems.push({ path: [k], code: 'FAKE_NOT_IMPLEMENTED', message: `${k} is not implemented by the fake.` });
    }
    if (body.name !== undefined && (typeof body.name !== 'string' || len(body.name) < 1 || len(body.name) > 100)) problems.push({ path: ['name'], code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 100 in length.' });
    for (const k of ['archived', 'locked']) if (body[k] !== undefined && typeof body[k] !== 'boolean') problems.push({ path: [k], code: 'BASE_TYPE_BAD_BOOLEAN', message: 'Must be a boolean.' });
    if (body.auto_archive_duration !== undefined && !AUTO_ARCHIVE.has(body.auto_archive_duration)) problems.push({ path: ['auto_archive_duration'], code: 'BASE_TYPE_CHOICES', message: 'Value must be one of {60, 1440, 4320, 10080}.' });
    fail(problems);
    if (ch.isThread) {
      const owner = ch.ownerId === app.botUserId;
      const manage = (perms & P.MANAGE_THREADS) !== 0n;
      if (body.locked !== undefined && !manage) throw E.missingPermissions();
      if (!owner && !manage) throw E.missingPermissions();
      if (ch.threadMeta.locked && !manage) throw E.missingPermissions();
      if (body.archived !== undefined) {
        ch.threadMeta.archived = body.archived;
        ch.threadMeta.archive_timestamp = isoNow();
      }
      if (body.locked !== undefined) ch.threadMeta.locked = body.locked;
      if (body.auto_archive_duration !== undefined) ch.threadMeta.auto_archive_duration = body.auto_archive_duration;
      if (body.name !== undefined) ch.name = body.name;
      st.toGuildBots(ch.guild(), 'THREAD_UPDATE', (a) => (st.canView(a, ch) ? ch.json(a.botUserId) : null), INTENT.GUILDS);
      return { status: 200, body: ch.json(app.botUserId) };
    }
    if (!(perms & P.MANAGE_CHANNELS)) throw E.missingPermissions();
    if (body.name !== undefined) ch.name = body.name;
    channelEvent(ch, 'CHANNEL_UPDATE');
    return { status: 200, body: ch.json(app.botUserId) };
  }

  function createThread(ctx) {
    const app = ctx.app, body = ctx.body;
    const parent = channel(ctx.params.channel_id);
    const perms = viewable(app, parent);
    // `type` defaults to PRIVATE_THREAD (channel.mdx §Start Thread without Message).
    const type = body.type ?? CH.PRIVATE_THREAD;
    const problems = [];
    if (typeof body.name !== 'string' || len(body.name) < 1 || len(body.name) > 100) problems.push({ path: ['name'], code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 100 in length.' });
    if (body.auto_archive_duration !== undefined && body.auto_archive_duration !== null && !AUTO_ARCHIVE.has(body.auto_archive_duration)) {
      problems.push({ path: ['auto_archive_duration'], code: 'BASE_TYPE_CHOICES', message: 'Value must be one of {60, 1440, 4320, 10080}.' });
    }
    if (type !== CH.PRIVATE_THREAD && body.invitable !== undefined && body.invitable !== null) {
      problems.push({ path: ['invitable'], code: 'THREAD_INVITABLE_INVALID', message: 'invitable is only for private threads.' });
    }
    fail(problems);
    // Private threads only in GUILD_TEXT; public in text, announcement threads in announcement.
    const okParent = (type === CH.PRIVATE_THREAD && parent.type === CH.GUILD_TEXT)
      || (type === CH.PUBLIC_THREAD && parent.type === CH.GUILD_TEXT)
      || (type === CH.ANNOUNCEMENT_THREAD && parent.type === CH.GUILD_ANNOUNCEMENT);
    if (!okParent) throw E.wrongChannelType();
    if (!(perms & (type === CH.PRIVATE_THREAD ? P.CREATE_PRIVATE_THREADS : P.CREATE_PUBLIC_THREADS))) throw E.missingPermissions();
    const th = st.createThread(parent, app, { ...body, type });
    // THREAD_CREATE (newly_created) to bots that can see it; the creator is a member.
    st.toGuildBots(parent.guild(), 'THREAD_CREATE', (a) => (st.canView(a, th) ? { ...th.json(a.botUserId), newly_created: true } : null), INTENT.GUILDS);
    return { status: 201, body: th.json(app.botUserId) };
  }

  function thread(ctx) {
    const th = channel(ctx.params.channel_id);
    if (!th.isThread) throw E.wrongChannelType();
    return th;
  }

  function threadMemberId(ctx) {
    return ctx.params.user_id === '@me' ? ctx.app.botUserId : ctx.params.user_id;
  }

  function addThreadMember(ctx) {
    const app = ctx.app;
    const th = thread(ctx);
    const perms = viewable(app, th);
    if (th.threadMeta.archived) throw E.archived();
    if (!(perms & P.SEND_MESSAGES_IN_THREADS)) throw E.missingPermissions();
    const uid = threadMemberId(ctx);
    const g = th.guild();
    if (!g.members.has(uid)) throw E.unknownMember();
    if (!th.threadMembers.has(uid)) {
      th.threadMembers.set(uid, { joinTimestamp: isoNow() });
      threadMembersUpdate(th, { added: [uid] });
    }
    return { status: 204 };
  }

  function removeThreadMember(ctx) {
    const app = ctx.app;
    const th = thread(ctx);
    const perms = viewable(app, th);
    if (th.threadMeta.archived) throw E.archived();
    const uid = threadMemberId(ctx);
    if (uid !== app.botUserId && !(perms & P.MANAGE_THREADS) && !(th.type === CH.PRIVATE_THREAD && th.ownerId === app.botUserId)) throw E.missingPermissions();
    if (th.threadMembers.delete(uid)) threadMembersUpdate(th, { removed: [uid] });
    return { status: 204 };
  }

  function getThreadMember(ctx) {
    const th = thread(ctx);
    viewable(ctx.app, th);
    const uid = threadMemberId(ctx);
    const m = th.threadMembers.get(uid);
    if (!m) throw E.unknownMember();
    const body = { id: th.id, user_id: uid, join_timestamp: m.joinTimestamp, flags: 0 };
    if (ctx.query.get('with_member') === 'true') body.member = st.memberJson(th.guild(), uid);
    return { status: 200, body };
  }

  // THREAD_MEMBERS_UPDATE: to bots with GUILD_MEMBERS, or to a bot that was itself added or
  // removed (gateway-events.mdx §Thread Members Update).
  function threadMembersUpdate(th, { added = [], removed = [] }) {
    const g = th.guild();
    for (const appId of g.apps) {
      const a = st.apps.get(appId);
      const self = added.includes(a.botUserId) || removed.includes(a.botUserId);
      fake.gateway.toApp(a, 'THREAD_MEMBERS_UPDATE', (s) => {
        if (!self && !(s.intents & INTENT.GUILD_MEMBERS)) return null;
        const d = { id: th.id, guild_id: g.id, member_count: Math.min(50, th.threadMembers.size) };
        if (added.length) d.added_members = added.map((u) => ({ id: th.id, user_id: u, join_timestamp: th.threadMembers.get(u)?.joinTimestamp, flags: 0, member: st.memberJson(g, u), presence: null }));
        if (removed.length) d.removed_member_ids = removed;
        return d;
      }, { guildId: g.id });
      if (added.includes(a.botUserId)) fake.gateway.toApp(a, 'THREAD_CREATE', () => th.json(a.botUserId), { guildId: g.id, intent: INTENT.GUILDS });
    }
  }

  // Overwrites may grant/deny only what the bot holds in the guild (or parent channel), unless
  // it has a MANAGE_ROLES overwrite in the channel (channel.mdx §Edit Channel Permissions).
  function checkGrant(app, g, ch, bits) {
    const base = st.botGuildPerms(app, g);
    if (base & P.ADMINISTRATOR) return;
    let held = base;
    const parent = ch?.parentChannel();
    if (parent) held |= st.botPerms(app, parent);
    if (ch) {
      const member = g.members.get(app.botUserId);
      const ow = [ch.overwrites.get(app.botUserId), ...member.roles.map((r) => ch.overwrites.get(r)), ch.overwrites.get(g.id)];
      if (ow.some((o) => o && (o.allow & P.MANAGE_ROLES))) return;
    }
    if (bits & ~held) throw E.missingPermissions();
  }

  function overwriteTarget(g, id, type, path, problems) {
    if (type === 0 && !g.roles.has(id)) problems.push({ path, code: 'UNKNOWN_ROLE', message: `Unknown role ${id}.` });
    if (type === 1 && !g.members.has(id)) problems.push({ path, code: 'UNKNOWN_MEMBER', message: `Unknown member ${id}.` });
  }

  function putPermission(ctx) {
    const app = ctx.app, body = ctx.body;
    const ch = channel(ctx.params.channel_id);
    if (!ch.guildId || ch.isThread) throw E.wrongChannelType();
    const perms = viewable(app, ch);
    const problems = [];
    if (body.type !== 0 && body.type !== 1) problems.push({ path: ['type'], code: 'BASE_TYPE_REQUIRED', message: 'type is 0 (role) or 1 (member).' });
    const allow = toBits(body.allow), deny = toBits(body.deny);
    if (allow === null) problems.push({ path: ['allow'], code: 'BASE_TYPE_TYPE', message: 'allow must be a permission bit set (string).' });
    if (deny === null) problems.push({ path: ['deny'], code: 'BASE_TYPE_TYPE', message: 'deny must be a permission bit set (string).' });
    const g = ch.guild();
    if (!problems.length) overwriteTarget(g, ctx.params.overwrite_id, body.type, [], problems);
    fail(problems);
    if (!(perms & P.MANAGE_ROLES)) throw E.missingPermissions();
    checkGrant(app, g, ch, allow | deny);
    ch.overwrites.set(ctx.params.overwrite_id, { id: ctx.params.overwrite_id, type: body.type, allow, deny });
    channelEvent(ch, 'CHANNEL_UPDATE');
    return { status: 204 };
  }

  function deletePermission(ctx) {
    const ch = channel(ctx.params.channel_id);
    if (!ch.guildId || ch.isThread) throw E.wrongChannelType();
    const perms = viewable(ctx.app, ch);
    if (!(perms & P.MANAGE_ROLES)) throw E.missingPermissions();
    if (ch.overwrites.delete(ctx.params.overwrite_id)) channelEvent(ch, 'CHANNEL_UPDATE');
    return { status: 204 };
  }

  function createGuildChannel(ctx) {
    const app = ctx.app, body = ctx.body;
    const g = guildOf(app, ctx.params.guild_id);
    const type = body.type ?? CH.GUILD_TEXT;
    const problems = [];
    if (typeof body.name !== 'string' || len(body.name) < 1 || len(body.name) > 100) problems.push({ path: ['name'], code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 100 in length.' });
    if (body.parent_id) {
      const p = st.channels.get(String(body.parent_id));
      if (!p || p.deleted || p.guildId !== g.id || p.type !== CH.GUILD_CATEGORY || type === CH.GUILD_CATEGORY) {
        problems.push({ path: ['parent_id'], code: 'CHANNEL_PARENT_INVALID', message: 'parent_id must be a category of this guild.' });
      }
    }
    if ((type === CH.GUILD_TEXT || type === CH.GUILD_ANNOUNCEMENT) && typeof body.topic === 'string' && len(body.topic) > 1024) {
      problems.push({ path: ['topic'], code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 1024 or fewer in length.' });
    }
    const ows = Array.isArray(body.permission_overwrites) ? body.permission_overwrites : [];
    const parsed = ows.map((o, i) => {
      const p = ['permission_overwrites', i];
      if (o.type !== 0 && o.type !== 1) problems.push({ path: [...p, 'type'], code: 'BASE_TYPE_REQUIRED', message: 'type is 0 (role) or 1 (member).' });
      const allow = toBits(o.allow), deny = toBits(o.deny);
      if (allow === null) problems.push({ path: [...p, 'allow'], code: 'BASE_TYPE_TYPE', message: 'allow must be a permission bit set.' });
      if (deny === null) problems.push({ path: [...p, 'deny'], code: 'BASE_TYPE_TYPE', message: 'deny must be a permission bit set.' });
      overwriteTarget(g, String(o.id), o.type, [...p, 'id'], problems);
      return { id: String(o.id), type: o.type, allow: allow ?? 0n, deny: deny ?? 0n };
    });
    fail(problems);
    if (!(st.botGuildPerms(app, g) & P.MANAGE_CHANNELS)) throw E.missingPermissions();
    // "Setting MANAGE_ROLES permission in channels is only possible for guild administrators."
    const admin = (st.botGuildPerms(app, g) & P.ADMINISTRATOR) !== 0n;
    for (const o of parsed) {
      if (!admin && ((o.allow | o.deny) & P.MANAGE_ROLES)) throw E.missingPermissions();
      checkGrant(app, g, null, o.allow | o.deny);
    }
    const ch = st.createChannel(g.id, { name: body.name, type, parent_id: body.parent_id ? String(body.parent_id) : null,
      permission_overwrites: parsed, topic: body.topic ?? null, position: body.position ?? undefined });
    if (body.nsfw) ch.nsfw = true;
    if (body.rate_limit_per_user) ch.rateLimitPerUser = body.rate_limit_per_user;
    return { status: 201, body: ch.json() };
  }

  function listGuildChannels(ctx) {
    const g = guildOf(ctx.app, ctx.params.guild_id);
    return { status: 200, body: g.channelIds.map((id) => st.channels.get(id)).filter((c) => !c.deleted && !c.isThread).map((c) => c.json()) };
  }

  function getGuild(ctx) {
    const g = guildOf(ctx.app, ctx.params.guild_id);
    return { status: 200, body: st.guildJson(g) };
  }

  function getGuildRoles(ctx) {
    const g = guildOf(ctx.app, ctx.params.guild_id);
    return { status: 200, body: [...g.roles.values()].map((r) => st.roleJson(r)) };
  }

  function getGuildMember(ctx) {
    const g = guildOf(ctx.app, ctx.params.guild_id);
    const m = st.memberJson(g, ctx.params.user_id);
    if (!m) throw E.unknownMember();
    return { status: 200, body: m };
  }

  function createDM(ctx) {
    const app = ctx.app;
    const rid = ctx.body.recipient_id;
    if (rid === undefined || rid === null) fail([{ path: ['recipient_id'], code: 'BASE_TYPE_REQUIRED', message: 'This field is required' }]);
    const u = st.users.get(String(rid));
    if (!u || u.id === app.botUserId) throw E.invalidRecipient();
    const ch = st.dmChannel(app.botUserId, u.id);
    return { status: 200, body: ch.json(app.botUserId) };
  }

  // ---- interactions ----

  function interactionMetadata(rec, extra = {}) {
    const md = { id: rec.id, type: rec.type, user: st.userJson(rec.userId),
      authorizing_integration_owners: clone(rec.json.authorizing_integration_owners), ...extra };
    if (rec.type === ITYPE.APPLICATION_COMMAND) { md.name = rec.data.name; md.command_type = 1; }
    if (rec.type === ITYPE.MESSAGE_COMPONENT) md.interacted_message_id = rec.sourceMessageId;
    return md;
  }

  function interactionMessage(ctx, rec, data, { flags, followup = false, files = true }) {
    const ch = st.channels.get(rec.channelId);
    const atts = files ? attachments(ctx, ch, null, data?.attachments) : [];
    const msg = st.addMessage(ch, {
      authorId: rec.app.botUserId, app: rec.app, body: data, flags, attachments: atts, webhookId: rec.app.id,
      type: rec.type === ITYPE.APPLICATION_COMMAND && !followup ? 20 : 0,
      interaction: interactionMetadata(rec, followup ? { original_response_message_id: rec.originalId } : {}),
      ephemeralFor: (flags & MSG_FLAG.EPHEMERAL) ? rec.userId : null,
    });
    if (!(flags & MSG_FLAG.LOADING)) st.dispatchMessage('MESSAGE_CREATE', msg);
    return msg;
  }

  // Which callback types fit which interaction (receiving-and-responding.mdx §Interaction
  // Callback Type): 6/7 only for component-based interactions, 9 not for modal submits.
  function callbackTypeOk(rec, type) {
    const fromComponent = rec.type === ITYPE.MESSAGE_COMPONENT || (rec.type === ITYPE.MODAL_SUBMIT && rec.sourceMessageId);
    switch (type) {
      case 1: return rec.type === ITYPE.PING;
      case 4: case 5: return [ITYPE.APPLICATION_COMMAND, ITYPE.MESSAGE_COMPONENT, ITYPE.MODAL_SUBMIT].includes(rec.type);
      case 6: case 7: return !!fromComponent;
      case 8: return rec.type === ITYPE.AUTOCOMPLETE;
      case 9: return rec.type === ITYPE.APPLICATION_COMMAND || rec.type === ITYPE.MESSAGE_COMPONENT;
      case 12: return rec.type === ITYPE.APPLICATION_COMMAND || rec.type === ITYPE.MESSAGE_COMPONENT;
      default: return false;
    }
  }

  function callback(ctx) {
    const rec = ix.byId.get(ctx.params.interaction_id);
    if (!rec || rec.token !== ctx.params.interaction_token) {
      fake.violation('unknown-interaction', `callback for unknown interaction ${ctx.params.interaction_id} (or wrong token)`, { appId: ctx.app?.id });
      throw E.unknownInteraction();
    }
    const late = Date.now() - rec.createdAt;
    if (rec.callback) throw E.alreadyAcknowledged();
    if (late > opts.interactionDeadlineMs) {
      fake.violation('interaction-deadline', `callback ${late} ms after the interaction (limit ${opts.interactionDeadlineMs} ms): Discord answers 10062 and the user sees "This interaction failed"`, { appId: rec.app.id, interactionId: rec.id });
      throw E.unknownInteraction();
    }
    fake.rest.validateSpec(ctx);
    const body = ctx.body;
    const type = body.type;
    const data = body.data ?? null;
    if (!callbackTypeOk(rec, type)) {
      fail([{ path: ['type'], code: 'INTERACTION_CALLBACK_TYPE_INVALID', message: `Callback type ${type} is not valid for an interaction of type ${rec.type}.` }]);
    }
    const problems = [];
    if (type === 4) problems.push(...checkMessage(data || {}, { mode: 'create', allowedFlags: CALLBACK_FLAGS }).map(under('data')));
    if (type === 5) {
      const f = data?.flags ?? 0;
      if (f & ~MSG_FLAG.EPHEMERAL) problems.push({ path: ['data', 'flags'], code: 'INTERACTION_CALLBACK_FLAGS_INVALID', message: `Type 5 (deferred) callbacks take only the EPHEMERAL flag (64); got ${f}. Send IS_COMPONENTS_V2 with the edit of @original.` });
    }
    if (type === 7) {
      const src = st.messages.get(rec.sourceMessageId);
      problems.push(...checkMessage(data || {}, { mode: 'edit', existingFlags: src?.json.flags ?? 0 }).map(under('data')));
    }
    if (type === 9) problems.push(...checkModal(data));
    fail(problems);
    if (type === 4 && isEmpty(data || {}, ctx.files)) throw E.emptyMessage();

    let msg = null;
    if (type === 4) {
      msg = interactionMessage(ctx, rec, data, { flags: data.flags || 0 });
      rec.originalId = msg.id;
    } else if (type === 5) {
      msg = interactionMessage(ctx, rec, {}, { flags: MSG_FLAG.LOADING | ((data?.flags ?? 0) & MSG_FLAG.EPHEMERAL), files: false });
      rec.originalId = msg.id;
    } else if (type === 6 || type === 7) {
      rec.originalId = rec.sourceMessageId;
      if (type === 7 && data) {
        msg = st.messages.get(rec.sourceMessageId);
        const ch = st.channels.get(msg.channelId);
        const atts = ('attachments' in data || ctx.files.length) ? attachments(ctx, ch, msg.json.attachments, data.attachments) : undefined;
        st.editMessage(msg, data, { flags: editedFlags(msg.json.flags, data.flags), attachments: atts });
        st.dispatchMessage('MESSAGE_UPDATE', msg);
      }
    }
    ix.acknowledged(rec, type, data);
    if (ctx.query.get('with_response') !== 'true') return { status: 204 };
    const interaction = { id: rec.id, type: rec.type };
    if (msg && (type === 4 || type === 5)) {
      interaction.response_message_id = msg.id;
      interaction.response_message_loading = type === 5;
      interaction.response_message_ephemeral = !!msg.ephemeralFor;
    }
    const resource = { type };
    if (type === 4 || type === 7) resource.message = clone((msg || st.messages.get(rec.sourceMessageId)).json);
    return { status: 200, body: { interaction, resource } };
  }

  const under = (k) => (p) => ({ ...p, path: [k, ...p.path] });

  // The webhook of an interaction: /webhooks/{application_id}/{interaction_token}.
  function interactionWebhook(ctx) {
    const appId = ctx.params.webhook_id, token = ctx.params.webhook_token;
    const app = st.apps.get(appId);
    if (!app) {
      const u = st.users.get(appId);
      if (u?.appId) fake.violation('webhook-application-id', `used the bot user id ${appId} where the application id ${u.appId} belongs`, { appId: u.appId });
      throw E.unknownWebhook();
    }
    const rec = ix.byToken.get(token);
    if (!rec || rec.app !== app) throw E.unknownWebhook();
    const age = Date.now() - rec.createdAt;
    if (age > opts.interactionTokenTtlMs) {
      fake.violation('interaction-token-expired', `used an interaction token ${Math.round(age / 1000)} s old (valid 15 min)`, { appId: app.id, interactionId: rec.id });
      throw E.invalidWebhookToken();
    }
    if (!rec.callback) {
      fake.violation('interaction-not-acknowledged', `used the webhook of interaction ${rec.id} before answering its callback`, { appId: app.id, interactionId: rec.id });
      throw E.unknownWebhook();
    }
    return rec;
  }

  function webhookMessage(ctx, rec) {
    const mid = ctx.params.message_id ?? '@original';   // the @original routes have it literally
    const id = mid === '@original' ? rec.originalId : mid;
    if (!id || (mid !== '@original' && id !== rec.originalId && !rec.followupIds.includes(id))) throw E.unknownMessage();
    const msg = st.messages.get(id);
    if (!msg || msg.deleted) throw E.unknownMessage();
    return msg;
  }

  function getWebhookMessage(ctx) {
    const rec = interactionWebhook(ctx);
    return { status: 200, body: clone(webhookMessage(ctx, rec).json) };
  }

  function editWebhookMessage(ctx) {
    const rec = interactionWebhook(ctx);
    const msg = webhookMessage(ctx, rec);
    const body = ctx.body;
    fail(checkMessage(body, { mode: 'edit', existingFlags: msg.json.flags & ~MSG_FLAG.LOADING }));
    const ch = st.channels.get(msg.channelId);
    const wasLoading = (msg.json.flags & MSG_FLAG.LOADING) !== 0;
    const atts = ('attachments' in body || ctx.files.length) ? attachments(ctx, ch, msg.json.attachments) : undefined;
    let flags = editedFlags(msg.json.flags & ~MSG_FLAG.LOADING, body.flags);
    if (wasLoading && isEmpty({ content: msg.json.content, ...body }, atts || [])) throw E.emptyMessage();
    st.editMessage(msg, body, { flags, attachments: atts });
    st.dispatchMessage(wasLoading ? 'MESSAGE_CREATE' : 'MESSAGE_UPDATE', msg);
    return { status: 200, body: clone(msg.json) };
  }

  function deleteWebhookMessage(ctx) {
    const rec = interactionWebhook(ctx);
    const msg = webhookMessage(ctx, rec);
    removeMessage(msg, st.channels.get(msg.channelId));
    return { status: 204 };
  }

  function followup(ctx) {
    const rec = interactionWebhook(ctx);
    const body = ctx.body;
    const problems = [];
    // Not supported for interaction follow-ups (receiving-and-responding.mdx §Create Followup).
    for (const k of ['username', 'avatar_url', 'thread_name']) if (body[k] !== undefined) problems.push({ path: [k], code: 'WEBHOOK_FIELD_INVALID', message: `${k} is not supported for interaction follow-ups.` });
    if (ctx.query.has('thread_id')) problems.push({ path: ['thread_id'], code: 'WEBHOOK_FIELD_INVALID', message: 'thread_id is not supported for interaction follow-ups.' });
    problems.push(...checkMessage(body, { mode: 'create', allowedFlags: FOLLOWUP_FLAGS }));
    fail(problems);
    if (isEmpty(body, ctx.files)) throw E.emptyMessage();
    const original = rec.originalId && st.messages.get(rec.originalId);
    if (rec.callback.type === 5 && original && (original.json.flags & MSG_FLAG.LOADING)) {
      // Deprecated: after a deferred callback this edits the loading message instead.
      fake.violation('deprecated-followup-after-defer', 'sent a follow-up to finish a deferred (type 5) response; edit @original instead', { appId: rec.app.id, interactionId: rec.id });
      return editWebhookMessage({ ...ctx, params: { ...ctx.params, message_id: '@original' } });
    }
    const msg = interactionMessage(ctx, rec, body, { flags: body.flags || 0, followup: true });
    rec.followupIds.push(msg.id);
    return { status: 200, body: clone(msg.json) };
  }

  // ---- application commands ----

  function commandsApp(ctx) {
    const app = ctx.app;
    if (ctx.params.application_id !== app.id) {
      fake.violation('wrong-application-id', `application_id ${ctx.params.application_id} is not this token's application (${app.id})`, { appId: app.id });
      throw E.missingAccess();
    }
    return app;
  }

  function commandJson(app, c, guildId, old) {
    const j = {
      id: old?.id ?? snowflake(), application_id: app.id, version: snowflake(), default_member_permissions: null,
      type: c.type ?? 1, name: c.name, name_localizations: c.name_localizations ?? null,
      description: c.description ?? '', description_localizations: c.description_localizations ?? null,
      dm_permission: guildId ? undefined : (c.dm_permission ?? true), nsfw: !!c.nsfw,
      contexts: c.contexts ?? null, integration_types: c.integration_types ?? [0],
    };
    if (c.default_member_permissions !== undefined && c.default_member_permissions !== null) j.default_member_permissions = String(c.default_member_permissions);
    if (c.options) j.options = clone(c.options);
    if (guildId) { j.guild_id = guildId; delete j.dm_permission; }
    return j;
  }

  function getCommands(ctx) {
    const app = commandsApp(ctx);
    const gid = ctx.params.guild_id;
    if (gid) guildOf(app, gid);
    return { status: 200, body: clone(gid ? (app.guildCommands.get(gid) || []) : app.globalCommands) };
  }

  function putCommands(ctx) {
    const app = commandsApp(ctx);
    const gid = ctx.params.guild_id;
    if (gid) guildOf(app, gid);
    const list = ctx.body ?? [];
    if (!Array.isArray(list)) fail([{ path: [], code: 'BASE_TYPE_TYPE', message: 'Body must be an array of commands.' }]);
    fail(checkCommands(list));
    const old = gid ? (app.guildCommands.get(gid) || []) : app.globalCommands;
    const next = list.map((c) => commandJson(app, c, gid, old.find((o) => o.name === c.name && o.type === (c.type ?? 1))));
    if (gid) app.guildCommands.set(gid, next); else app.globalCommands = next;
    return { status: 200, body: clone(next) };
  }

  function postCommand(ctx) {
    const app = commandsApp(ctx);
    const gid = ctx.params.guild_id;
    if (gid) guildOf(app, gid);
    fail(checkCommands([ctx.body]));
    const list = gid ? (app.guildCommands.get(gid) || []) : app.globalCommands;
    const i = list.findIndex((o) => o.name === ctx.body.name && o.type === (ctx.body.type ?? 1));
    const cmd = commandJson(app, ctx.body, gid, i >= 0 ? list[i] : null);
    if (i >= 0) list[i] = cmd; else list.push(cmd);
    if (gid) app.guildCommands.set(gid, list); else app.globalCommands = list;
    return { status: i >= 0 ? 200 : 201, body: clone(cmd) };
  }

  // ---- the table ----

  // The rules of a body on its own, merged into a schema failure's answer (rest.mjs).
  const rulesCreate = (b) => checkMessage(b, { mode: 'create', allowedFlags: CREATE_FLAGS });
  const rulesFollowup = (b) => checkMessage(b, { mode: 'create', allowedFlags: FOLLOWUP_FLAGS });
  const rulesEdit = (b) => checkMessage(b, { mode: 'edit' });
  const rulesCallback = (b) => (b.type === 4 ? checkMessage(b.data || {}, { mode: 'create', allowedFlags: CALLBACK_FLAGS }).map(under('data'))
    : b.type === 7 ? checkMessage(b.data || {}, { mode: 'edit' }).map(under('data')) : b.type === 9 ? checkModal(b.data) : []);

  const chan = { major: ['channel_id'] };
  const guild = { major: ['guild_id'] };
  const hook = { auth: 'none', major: ['webhook_id', 'webhook_token'], noGlobal: true };
  const ORIG = '/webhooks/{webhook_id}/{webhook_token}/messages/@original';
  return [
    route('GET', '/gateway', () => ({ status: 200, body: { url: `${fake.wsBase}/gateway` } }), { auth: 'none' }),
    route('GET', '/gateway/bot', gatewayBot, { bucket: B(5, 5) }),
    route('GET', '/users/@me', me),
    route('GET', '/oauth2/applications/@me', application),
    route('GET', '/applications/@me', application),

    route('POST', '/channels/{channel_id}/messages', createMessage, { ...chan, body: true, files: true, rules: rulesCreate }),
    route('GET', '/channels/{channel_id}/messages', listMessages, { ...chan }),
    route('GET', '/channels/{channel_id}/messages/{message_id}', getMessage, { ...chan, bucket: B(50, 1) }),
    route('PATCH', '/channels/{channel_id}/messages/{message_id}', editMessage, { ...chan, body: true, files: true, rules: rulesEdit }),
    route('DELETE', '/channels/{channel_id}/messages/{message_id}', deleteMessage, { ...chan, bucket: B(5, 1) }),
    route('GET', '/channels/{channel_id}', getChannel, { ...chan }),
    route('DELETE', '/channels/{channel_id}', deleteChannel, { ...chan }),
    route('PATCH', '/channels/{channel_id}', modifyChannel, { ...chan, body: true }),
    route('POST', '/channels/{channel_id}/threads', createThread, { ...chan, body: true }),
    route('PUT', '/channels/{channel_id}/thread-members/{user_id}', addThreadMember, { ...chan }),
    route('DELETE', '/channels/{channel_id}/thread-members/{user_id}', removeThreadMember, { ...chan }),
    route('GET', '/channels/{channel_id}/thread-members/{user_id}', getThreadMember, { ...chan }),
    route('PUT', '/channels/{channel_id}/permissions/{overwrite_id}', putPermission, { ...chan, body: true }),
    route('DELETE', '/channels/{channel_id}/permissions/{overwrite_id}', deletePermission, { ...chan }),

    route('POST', '/guilds/{guild_id}/channels', createGuildChannel, { ...guild, body: true }),
    route('GET', '/guilds/{guild_id}/channels', listGuildChannels, { ...guild }),
    route('GET', '/guilds/{guild_id}', getGuild, { ...guild }),
    route('GET', '/guilds/{guild_id}/roles', getGuildRoles, { ...guild }),
    route('GET', '/guilds/{guild_id}/members/{user_id}', getGuildMember, { ...guild }),
    route('POST', '/users/@me/channels', createDM, { body: true }),

    route('POST', '/interactions/{interaction_id}/{interaction_token}/callback', callback,
      { auth: 'none', major: ['interaction_id'], noGlobal: true, body: true, files: true, validateInHandler: true, rules: rulesCallback }),
    route('GET', ORIG, getWebhookMessage, hook),
    route('PATCH', ORIG, editWebhookMessage, { ...hook, body: true, files: true, rules: rulesEdit }),
    route('DELETE', ORIG, deleteWebhookMessage, hook),
    route('POST', '/webhooks/{webhook_id}/{webhook_token}', followup, { ...hook, body: true, files: true, rules: rulesFollowup }),
    route('GET', '/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}', getWebhookMessage, hook),
    route('PATCH', '/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}', editWebhookMessage, { ...hook, body: true, files: true, rules: rulesEdit }),
    route('DELETE', '/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}', deleteWebhookMessage, hook),

    route('GET', '/applications/{application_id}/commands', getCommands),
    route('PUT', '/applications/{application_id}/commands', putCommands, { body: true, arrayBody: true, bucket: B(5, 20), rules: checkCommands }),
    route('POST', '/applications/{application_id}/commands', postCommand, { body: true, bucket: B(5, 20) }),
    route('GET', '/applications/{application_id}/guilds/{guild_id}/commands', getCommands, { ...guild }),
    route('PUT', '/applications/{application_id}/guilds/{guild_id}/commands', putCommands, { ...guild, body: true, arrayBody: true, bucket: B(5, 20), rules: checkCommands }),
    route('POST', '/applications/{application_id}/guilds/{guild_id}/commands', postCommand, { ...guild, body: true, bucket: B(5, 20) }),
  ];
}
