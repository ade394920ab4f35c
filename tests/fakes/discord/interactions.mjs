// Acting as a Discord user: clicking buttons, choosing select values, submitting modals and
// running slash commands. Each action builds the interaction object Discord would send
// (interactions/receiving-and-responding.mdx §Interaction Object), dispatches INTERACTION_CREATE
// to the app's gateway session(s), and returns a handle whose `response` resolves with the
// callback the bot posts (or rejects when none came within the 3 s deadline).
//
// The fake refuses (throws) what the Discord client would not let a user do: clicking a
// disabled or link button, a component that is not on the message, values outside a select's
// options or min/max, submitting a modal the app never showed, running an unregistered command.
import { snowflake, interactionToken } from './ids.mjs';
import { CH, clone, flattenComponents } from './state.mjs';
import { P } from './permissions.mjs';

export const ITYPE = { PING: 1, APPLICATION_COMMAND: 2, MESSAGE_COMPONENT: 3, AUTOCOMPLETE: 4, MODAL_SUBMIT: 5 };
const SELECT_TYPES = new Set([3, 5, 6, 7, 8]);

export class Interactions {
  constructor(fake) {
    this.fake = fake;
    this.state = fake.state;
    this.opts = fake.opts;
    this.byId = new Map();
    this.byToken = new Map();
    this.modals = new Map();   // `${appId}:${userId}` -> Map(custom_id -> {data, channelId, messageId, at})
  }

  needApp(appId) {
    const app = this.state.apps.get(appId);
    if (!app) throw new Error(`unknown app ${appId}`);
    return app;
  }

  needUser(userId) {
    if (!this.state.users.has(userId)) throw new Error(`unknown user ${userId}`);
  }

  // The user must be able to see the channel (guild member with VIEW_CHANNEL, or DM recipient).
  needAccess(userId, ch) {
    const perms = this.state.userPerms(userId, ch);
    if (!(perms & P.VIEW_CHANNEL)) throw new Error(`user ${userId} cannot see channel ${ch.id}`);
    return perms;
  }

  // ---- actions ----

  clickButton({ appId, messageId, channelId, customId, userId }) {
    const { app, rec, ch, comp } = this.componentTarget({ appId, messageId, channelId, customId, userId });
    if (comp.type !== 2) throw new Error(`component "${customId}" is type ${comp.type}, not a button`);
    if (comp.style === 5 || comp.style === 6) throw new Error(`button "${customId}" is a link/premium button: it sends no interaction`);
    if (comp.disabled) throw new Error(`button "${customId}" is disabled`);
    return this.create({ app, type: ITYPE.MESSAGE_COMPONENT, ch, userId, sourceMessage: rec,
      data: { custom_id: customId, component_type: 2, id: comp.id } });
  }

  selectValues({ appId, messageId, channelId, customId, values, userId }) {
    const { app, rec, ch, comp } = this.componentTarget({ appId, messageId, channelId, customId, userId });
    if (!SELECT_TYPES.has(comp.type)) throw new Error(`component "${customId}" is type ${comp.type}, not a select menu`);
    if (comp.disabled) throw new Error(`select "${customId}" is disabled`);
    values = [...(values || [])].map(String);
    const min = comp.min_values ?? 1, max = comp.max_values ?? 1;
    if (values.length < min || values.length > max) throw new Error(`select "${customId}" takes ${min}-${max} values, got ${values.length}`);
    const data = { custom_id: customId, component_type: comp.type, id: comp.id, values };
    if (comp.type === 3) {
      const allowed = new Set((comp.options || []).map((o) => o.value));
      for (const v of values) if (!allowed.has(v)) throw new Error(`select "${customId}" has no option "${v}"`);
    } else {
      data.resolved = this.resolve(values, ch.guild(), comp.type);
    }
    return this.create({ app, type: ITYPE.MESSAGE_COMPONENT, ch, userId, sourceMessage: rec, data });
  }

  // The message is named by messageId, or found as the newest message in channelId that has a
  // component with this custom_id and that the user can see (ephemeral ones included).
  componentTarget({ appId, messageId, channelId, customId, userId }) {
    this.needUser(userId);
    if (!messageId) messageId = this.findMessage({ appId, channelId, customId, userId });
    const rec = this.state.messages.get(messageId);
    if (!rec || rec.deleted) throw new Error(`unknown message ${messageId}`);
    if (!rec.appId) throw new Error(`message ${messageId} was not sent by an app`);
    if (appId && appId !== rec.appId) throw new Error(`message ${messageId} belongs to app ${rec.appId}, not ${appId}`);
    if (rec.ephemeralFor && rec.ephemeralFor !== userId) throw new Error(`message ${messageId} is ephemeral for user ${rec.ephemeralFor}`);
    const ch = this.state.channels.get(rec.channelId);
    this.needAccess(userId, ch);
    const comp = flattenComponents(rec.json.components).find((c) => c.custom_id === customId);
    if (!comp) throw new Error(`message ${messageId} has no component with custom_id "${customId}"`);
    return { app: this.needApp(rec.appId), rec, ch, comp };
  }

  findMessage({ appId, channelId, customId, userId }) {
    const ch = this.state.channels.get(channelId);
    if (!ch) throw new Error('clickButton/selectValues need messageId, or channelId to search');
    for (let i = ch.messageIds.length - 1; i >= 0; i--) {
      const m = this.state.messages.get(ch.messageIds[i]);
      if (m.deleted || !m.appId || (appId && m.appId !== appId) || (m.ephemeralFor && m.ephemeralFor !== userId)) continue;
      if (flattenComponents(m.json.components).some((c) => c.custom_id === customId)) return m.id;
    }
    throw new Error(`no message in channel ${channelId} has a component with custom_id "${customId}"`);
  }

  // resolved data; kind is a select's component type: 5 user, 6 role, 7 mentionable, 8 channel
  // (command options map onto these).
  resolve(ids, guild, kind) {
    const out = {};
    for (const id of ids) {
      if ((kind === 5 || kind === 7) && this.state.users.has(id)) {
        (out.users ??= {})[id] = this.state.userJson(id);
        const m = guild && this.state.memberJson(guild, id);
        if (m) { delete m.user; delete m.deaf; delete m.mute; (out.members ??= {})[id] = m; }
      } else if ((kind === 6 || kind === 7) && guild?.roles.has(id)) {
        (out.roles ??= {})[id] = this.state.roleJson(guild.roles.get(id));
      } else if (kind === 8) {
        const c = this.state.channels.get(id);
        if (!c) throw new Error(`unknown channel ${id}`);
        const j = c.json();
        (out.channels ??= {})[id] = { id: j.id, name: j.name, type: j.type, permissions: '0', parent_id: j.parent_id ?? null, guild_id: j.guild_id, flags: 0 };
      } else {
        throw new Error(`cannot resolve ${id}`);
      }
    }
    return out;
  }

  submitModal({ appId, customId, fields = {}, userId, channelId, guildId }) {
    this.needUser(userId);
    const app = this.needApp(appId);
    const shown = this.modals.get(`${appId}:${userId}`)?.get(customId);
    if (!shown) throw new Error(`app ${appId} never showed user ${userId} a modal with custom_id "${customId}"`);
    const ch = this.state.channels.get(channelId || shown.channelId);
    if (!ch) throw new Error(`unknown channel ${channelId}`);
    if (guildId && ch.guildId !== guildId) throw new Error(`channel ${ch.id} is not in guild ${guildId}`);
    const used = new Set();
    const answer = (c) => {
      const v = fields[c.custom_id];
      used.add(c.custom_id);
      if (c.type === 4) {
        const value = v === undefined ? '' : String(v);
        const required = c.required !== false;
        if (required && !value) throw new Error(`modal field "${c.custom_id}" is required`);
        const n = [...value].length;
        if (value && c.min_length !== undefined && n < c.min_length) throw new Error(`modal field "${c.custom_id}" needs at least ${c.min_length} characters`);
        if (c.max_length !== undefined && n > c.max_length) throw new Error(`modal field "${c.custom_id}" takes at most ${c.max_length} characters`);
        return { type: 4, id: c.id, custom_id: c.custom_id, value };
      }
      const values = v === undefined ? [] : [].concat(v).map(String);
      return { type: c.type, id: c.id, custom_id: c.custom_id, values };
    };
    const components = shown.data.components.map((c) => {
      if (c.type === 18) return { type: 18, id: c.id, component: answer(c.component) };
      if (c.type === 1) return { type: 1, id: c.id, components: c.components.map(answer) };
      return { type: c.type, id: c.id };
    });
    for (const k of Object.keys(fields)) if (!used.has(k)) throw new Error(`modal "${customId}" has no field "${k}"`);
    this.modals.get(`${appId}:${userId}`).delete(customId);
    const sourceMessage = shown.messageId ? this.state.messages.get(shown.messageId) : null;
    return this.create({ app, type: ITYPE.MODAL_SUBMIT, ch, userId, sourceMessage,
      data: { custom_id: customId, components } });
  }

  // ignoreDefaultMemberPermissions: the server's admins overrode the command's permissions in
  // Server Settings > Integrations, so a member without default_member_permissions may run it.
  runCommand({ appId, guildId, channelId, userId, name, options = [], ignoreDefaultMemberPermissions = false }) {
    this.needUser(userId);
    const app = this.needApp(appId);
    let ch;
    if (guildId) {
      const g = this.state.guilds.get(guildId);
      if (!g) throw new Error(`unknown guild ${guildId}`);
      if (!g.apps.has(app.id)) throw new Error(`app ${appId} is not in guild ${guildId}`);
      ch = this.state.channels.get(channelId || g.systemChannelId);
      if (!ch || ch.guildId !== guildId) throw new Error(`channel ${channelId} is not in guild ${guildId}`);
    } else {
      ch = channelId ? this.state.channels.get(channelId) : this.state.dmChannel(userId, app.botUserId);
    }
    const perms = this.needAccess(userId, ch);
    const guildCmd = guildId && (app.guildCommands.get(guildId) || []).find((c) => c.name === name && c.type === 1);
    const cmd = guildCmd || app.globalCommands.find((c) => c.name === name && c.type === 1);
    if (!cmd) throw new Error(`app ${appId} has no slash command "${name}" registered${guildId ? ` in guild ${guildId} or globally` : ' globally'}`);
    if (cmd.default_member_permissions !== null && cmd.default_member_permissions !== undefined && guildId && !ignoreDefaultMemberPermissions) {
      const need = BigInt(cmd.default_member_permissions);
      if ((perms & need) !== need && !(perms & P.ADMINISTRATOR)) {
        throw new Error(`user ${userId} lacks default_member_permissions ${need} for /${name}: Discord hides the command from them (pass ignoreDefaultMemberPermissions to simulate an admin's override)`);
      }
    }
    const { list, resolved } = this.commandOptions(cmd.options || [], options, ch.guild());
    const data = { id: cmd.id, name: cmd.name, type: 1 };
    if (list.length) data.options = list;
    if (resolved) data.resolved = resolved;
    if (guildCmd) data.guild_id = guildId;
    return this.create({ app, type: ITYPE.APPLICATION_COMMAND, ch, userId, data });
  }

  // Checks the user's options against the registered ones as the client would.
  commandOptions(defs, given, guild) {
    const list = [];
    let resolved = null;
    const byName = new Map(defs.map((d) => [d.name, d]));
    if (defs.length && (defs[0].type === 1 || defs[0].type === 2)) {
      const [sub] = given;
      const def = sub && byName.get(sub.name);
      if (!def) throw new Error(`choose one of the subcommands ${[...byName.keys()].join(', ')}`);
      const inner = this.commandOptions(def.options || [], sub.options || [], guild);
      return { list: [{ name: def.name, type: def.type, options: inner.list }], resolved: inner.resolved };
    }
    for (const o of given) {
      const def = byName.get(o.name);
      if (!def) throw new Error(`command has no option "${o.name}"`);
      const v = o.value;
      const bad = () => new Error(`option "${o.name}" (type ${def.type}) cannot take ${JSON.stringify(v)}`);
      if (def.type === 3 && typeof v !== 'string') throw bad();
      if (def.type === 4 && !Number.isInteger(v)) throw bad();
      if (def.type === 10 && typeof v !== 'number') throw bad();
      if (def.type === 5 && typeof v !== 'boolean') throw bad();
      if (def.choices?.length && !def.choices.some((c) => c.value === v)) throw new Error(`option "${o.name}" must be one of the choices`);
      if (def.type === 3 && def.max_length !== undefined && [...v].length > def.max_length) throw bad();
      if (def.type === 3 && def.min_length !== undefined && [...v].length < def.min_length) throw bad();
      if ([6, 7, 8, 9].includes(def.type)) {
        const r = this.resolve([String(v)], guild, { 6: 5, 7: 8, 8: 6, 9: 7 }[def.type]);
        resolved ??= {};
        for (const [k, x] of Object.entries(r)) Object.assign(resolved[k] ??= {}, x);
      }
      list.push({ name: o.name, type: def.type, value: v });
    }
    for (const d of defs) if (d.required && !given.some((o) => o.name === d.name)) throw new Error(`option "${d.name}" is required`);
    return { list, resolved };
  }

  // ---- the interaction itself ----

  create({ app, type, data, ch, userId, sourceMessage = null }) {
    const now = Date.now();
    const id = snowflake(now);
    const token = interactionToken(id);
    const guild = ch.guild();
    const rec = {
      id, token, app, type, data, channelId: ch.id, guildId: guild?.id ?? null, userId, createdAt: now,
      sourceMessageId: sourceMessage?.id ?? null, callback: null, callbackAt: null, originalId: null,
      followupIds: [], modal: null, deliveredTo: 0, waiter: null, json: null,
    };
    const appPerms = this.state.botPerms(app, ch);
    const j = {
      app_permissions: appPerms.toString(), application_id: app.id, attachment_size_limit: 10485760,
      authorizing_integration_owners: { 0: guild ? guild.id : '0' }, channel: this.channelPartial(ch, userId),
      channel_id: ch.id, context: guild ? 0 : 1, data: clone(data), entitlements: [], id,
      locale: 'pt-BR', token, type, version: 1,
    };
    if (guild) {
      Object.assign(j, { guild: { id: guild.id, locale: guild.preferredLocale, features: [] }, guild_id: guild.id,
        guild_locale: guild.preferredLocale, member: this.state.memberJson(guild, userId, { withPermissionsIn: ch }) });
    } else {
      j.user = this.state.userJson(userId);
    }
    if (sourceMessage) j.message = clone(sourceMessage.json);
    rec.json = j;

    const response = new Promise((resolve, reject) => {
      rec.waiter = { resolve, reject, timer: setTimeout(() => {
        rec.waiter = null;
        reject(new Error(`no interaction callback for ${id} within ${this.opts.interactionDeadlineMs} ms`));
      }, this.opts.interactionDeadlineMs + 100) };
      rec.waiter.timer.unref?.();
    });
    response.catch(() => {});   // a test that ignores `response` must not see an unhandled rejection
    this.byId.set(id, rec);
    this.byToken.set(token, rec);
    rec.deliveredTo = this.fake.gateway.toApp(app, 'INTERACTION_CREATE', () => j, { guildId: rec.guildId });
    return { id, token, response, delivered: rec.deliveredTo };
  }

  channelPartial(ch, userId) {
    if (ch.type === CH.DM) return { id: ch.id, type: ch.type, last_message_id: ch.lastMessageId, flags: 0, recipients: [this.state.userJson(userId)] };
    const j = ch.json();
    const out = { id: j.id, name: j.name, type: j.type, permissions: this.state.userPerms(userId, ch).toString(),
      last_message_id: j.last_message_id ?? null, nsfw: j.nsfw ?? false, parent_id: j.parent_id ?? null,
      guild_id: j.guild_id, flags: j.flags, rate_limit_per_user: j.rate_limit_per_user ?? 0,
      topic: j.topic ?? null, position: j.position ?? 0 };
    if (j.thread_metadata) out.thread_metadata = j.thread_metadata;
    return out;
  }

  // Called by the callback route once a callback is accepted.
  acknowledged(rec, type, data) {
    rec.callback = { type, data: clone(data) ?? null };
    rec.callbackAt = Date.now();
    if (type === 9 && data) {
      const key = `${rec.app.id}:${rec.userId}`;
      if (!this.modals.has(key)) this.modals.set(key, new Map());
      this.modals.get(key).set(data.custom_id, { data: clone(data), channelId: rec.channelId,
        messageId: rec.type === ITYPE.MESSAGE_COMPONENT ? rec.sourceMessageId : null, at: rec.callbackAt });
    }
    if (rec.waiter) {
      clearTimeout(rec.waiter.timer);
      rec.waiter.resolve({ type, data: clone(data) ?? null });
      rec.waiter = null;
    }
  }

  view(id) {
    const rec = this.byId.get(id);
    if (!rec) return null;
    const msg = (mid) => { const m = this.state.messages.get(mid); return m ? this.state.messageView(m) : null; };
    return {
      id: rec.id, token: rec.token, type: rec.type, appId: rec.app.id, userId: rec.userId, channelId: rec.channelId,
      guildId: rec.guildId, data: clone(rec.data), createdAt: rec.createdAt, deliveredTo: rec.deliveredTo,
      callback: rec.callback ? { ...clone(rec.callback), at: rec.callbackAt, ms: rec.callbackAt - rec.createdAt } : null,
      original: rec.originalId ? msg(rec.originalId) : null,
      followups: rec.followupIds.map(msg), interaction: clone(rec.json),
    };
  }
}
