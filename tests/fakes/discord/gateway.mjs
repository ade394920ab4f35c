// The gateway: websocket connections, sessions, heartbeats, identify/resume and dispatches,
// following developers/events/gateway.mdx and reference/discord.md §1 point by point. What the
// bot does wrong is recorded as a violation and answered as Discord would (close code or op 9).
//
// A *connection* is one websocket; a *session* (session_id) outlives connections while it is
// resumable, keeps the sequence counter and a log of its dispatches for replay on resume.
import { WebSocketServer } from 'ws';
import { sessionId as newSessionId } from './ids.mjs';

export const OP = { DISPATCH: 0, HEARTBEAT: 1, IDENTIFY: 2, PRESENCE_UPDATE: 3, VOICE_STATE_UPDATE: 4,
  RESUME: 6, RECONNECT: 7, REQUEST_GUILD_MEMBERS: 8, INVALID_SESSION: 9, HELLO: 10, HEARTBEAT_ACK: 11,
  REQUEST_SOUNDBOARD_SOUNDS: 31, REQUEST_CHANNEL_INFO: 43 };
const OTHER_CLIENT_OPS = new Set([OP.PRESENCE_UPDATE, OP.VOICE_STATE_UPDATE, OP.REQUEST_GUILD_MEMBERS,
  OP.REQUEST_SOUNDBOARD_SOUNDS, OP.REQUEST_CHANNEL_INFO]);

// gateway.mdx §List of Intents: bits 0-16, 20, 21, 24, 25. Privileged: GUILD_MEMBERS,
// GUILD_PRESENCES, MESSAGE_CONTENT.
const KNOWN_INTENTS = ((1 << 17) - 1) | (1 << 20) | (1 << 21) | (1 << 24) | (1 << 25);
const PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15);
// Close codes after which the session cannot be resumed.
const ENDS_SESSION = new Set([4004, 4007, 4009, 4010, 4011, 4012, 4013, 4014]);
const LOG_MAX = 2000;        // dispatches kept per session for replay
const HISTORY_MAX = 50;      // connection records kept per app for sessions()

export function shardOf(guildId, numShards) {
  return Number((BigInt(guildId) >> 22n) % BigInt(numShards));
}

export class Gateway {
  constructor(fake) {
    this.fake = fake;
    this.state = fake.state;
    this.opts = fake.opts;
    // maxPayload well above 4096 so that *we* answer an oversized payload with 4002, as
    // Discord does, instead of ws closing with 1009.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20, perMessageDeflate: false, clientTracking: false });
    this.conns = new Set();          // open connections
    this.sessions = new Map();       // session_id -> session
    this.nextConnId = 1;
  }

  violation(kind, message, conn, extra = {}) {
    this.fake.violation(kind, message, { appId: conn?.app?.id ?? null, connId: conn?.id, ...extra });
  }

  // ---- connections ----

  handleUpgrade(req, socket, head, url) {
    const resumePath = /^\/gateway-resume\/?$/.test(url.pathname);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, req, url, resumePath));
  }

  onConnection(ws, req, url, resumePath) {
    const now = Date.now();
    const conn = {
      id: this.nextConnId++, ws, socket: req.socket, app: null, session: null, state: 'open',
      path: resumePath ? '/gateway-resume' : '/gateway', query: url.search, userAgent: req.headers['user-agent'] || null,
      openedAt: now, closedAt: null, close: null, identified: false, resumed: false, invalidated: false,
      heartbeats: 0, acks: 0, lastHeartbeatAt: null, lastSeqSent: null, sends: [], hbTimer: null,
      requestedBeat: null, gotInvalidSession: false,
    };
    this.conns.add(conn);
    ws.on('message', (data, isBinary) => this.onMessage(conn, data, isBinary));
    ws.on('close', (code, reason) => this.onClose(conn, code, reason.toString()));
    ws.on('error', () => {});

    if (!conn.userAgent) this.violation('gateway-user-agent', 'websocket upgrade without a User-Agent header', conn);
    const q = url.searchParams;
    if (q.get('v') !== '10' || q.get('encoding') !== 'json') {
      this.violation('gateway-url', `gateway URL must carry v=10&encoding=json (got "${url.search}")`, conn);
    }
    if (q.has('compress')) this.violation('gateway-url', `the fake does not implement transport compression (compress=${q.get('compress')}); connect without it`, conn);

    this.send(conn, { op: OP.HELLO, d: { heartbeat_interval: this.opts.heartbeatInterval, _trace: [`["fake-gateway",{"micros":0}]`] }, s: null, t: null });
    // An invalid version ends the connection (close code 4012); 9 is still served by Discord.
    const v = q.get('v');
    if (v !== null && v !== '10' && v !== '9') { this.closeConn(conn, 4012, 'Invalid API version'); return; }
    // First heartbeat is due within heartbeat_interval (interval * jitter, jitter < 1).
    conn.hbTimer = setTimeout(() => this.missedHeartbeat(conn), this.opts.heartbeatInterval + this.heartbeatGrace());
  }

  heartbeatGrace() {
    return this.opts.heartbeatGraceMs ?? Math.max(1000, this.opts.heartbeatInterval * 0.25);
  }

  send(conn, payload) {
    if (conn.state === 'closed') return;
    conn.ws.send(JSON.stringify(payload));
  }

  // Server-initiated close with a code. Ends the session when the code says so.
  closeConn(conn, code, reason = '', { by = 'server' } = {}) {
    if (conn.state === 'closed' || conn.close) return;
    conn.close = { code, reason, by, at: Date.now() };
    if (ENDS_SESSION.has(code) && conn.session) this.invalidate(conn.session);
    try { conn.ws.close(code, reason); } catch { conn.ws.terminate(); }
    setTimeout(() => { if (conn.state !== 'closed') conn.ws.terminate(); }, 1000).unref();
  }

  // Drops the TCP connection without a close frame (what a crash or network cut looks like).
  dropConn(conn, by = 'server-drop') {
    if (conn.state === 'closed') return;
    conn.close ??= { code: 1006, reason: '', by, at: Date.now() };
    conn.socket.destroy();
  }

  onClose(conn, code, reason) {
    if (conn.state === 'closed') return;
    conn.state = 'closed';
    conn.closedAt = Date.now();
    clearTimeout(conn.hbTimer);
    clearTimeout(conn.requestedBeat?.timer);
    this.conns.delete(conn);
    // Not initiated by us: the client closed (or its TCP connection went away: 1006).
    if (!conn.close) {
      conn.close = { code, reason, by: 'client', at: conn.closedAt };
      // A client close with 1000/1001 invalidates the session (gateway.mdx §Initiating a Disconnect).
      if ((code === 1000 || code === 1001) && conn.session) this.invalidate(conn.session);
    }
    if (conn.app) {
      conn.app.stats.closes.push({ connId: conn.id, code: conn.close.code, by: conn.close.by, reason: conn.close.reason, at: conn.closedAt });
      if (conn.app.stats.closes.length > 500) conn.app.stats.closes.shift();
    }
    const s = conn.session;
    if (s && s.conn === conn) { s.conn = null; s.disconnectedAt = conn.closedAt; }
  }

  invalidate(session) {
    session.invalid = true;
    session.app.sessions.delete(session);
    this.sessions.delete(session.id);
  }

  // A session can be resumed until a few minutes after its connection went away.
  expired(s, now = Date.now()) {
    return s.invalid || (!s.conn && s.disconnectedAt && now - s.disconnectedAt > this.opts.resumeTimeoutMs);
  }

  missedHeartbeat(conn) {
    // A connection already closing (the client sent its close frame) owes no heartbeat.
    if (conn.state === 'closed' || conn.close || conn.ws.readyState !== conn.ws.OPEN) return;
    // Timers run before I/O in Node's loop: when this process is busy, a heartbeat may be
    // waiting in the socket. Look again after the I/O phase before blaming the client.
    if (!conn.recheck) {
      conn.recheck = true;
      setImmediate(() => this.missedHeartbeat(conn));
      return;
    }
    conn.recheck = false;
    const since = Date.now() - (conn.lastHeartbeatAt ?? conn.openedAt);
    if (since < this.opts.heartbeatInterval + this.heartbeatGrace()) return;   // a beat came in meanwhile
    this.violation('heartbeat-missed', `no heartbeat within heartbeat_interval (${this.opts.heartbeatInterval} ms) + ${this.heartbeatGrace()} ms`, conn);
    // "If your app fails to send a heartbeat event in time, your connection will be closed and
    // you will be forced to Resume": a resumable close.
    this.closeConn(conn, 4000, 'Heartbeat timed out');
  }

  // ---- incoming payloads ----

  onMessage(conn, data, isBinary) {
    if (conn.state === 'closed' || conn.close) return;
    const now = Date.now();
    // 120 events per connection per 60 s (gateway.mdx §Rate Limiting).
    conn.sends.push(now);
    while (conn.sends.length && now - conn.sends[0] > this.opts.sendWindowMs) conn.sends.shift();
    if (conn.sends.length > this.opts.sendLimit) {
      this.violation('gateway-rate-limit', `more than ${this.opts.sendLimit} gateway events in ${this.opts.sendWindowMs} ms`, conn);
      this.closeConn(conn, 4008, 'Rate limited.');
      return;
    }
    const size = Buffer.isBuffer(data) ? data.length : Buffer.byteLength(String(data));
    if (size > 4096) {
      this.violation('gateway-payload-too-large', `sent a ${size}-byte payload (limit 4096)`, conn);
      this.closeConn(conn, 4002, 'Error while decoding payload.');
      return;
    }
    if (isBinary) this.violation('gateway-decode', 'sent a binary frame on an encoding=json connection', conn);
    let p;
    try { p = JSON.parse(data.toString('utf8')); } catch {
      this.violation('gateway-decode', `sent invalid JSON: ${JSON.stringify(data.toString('utf8').slice(0, 100))}`, conn);
      this.closeConn(conn, 4002, 'Error while decoding payload.');
      return;
    }
    if (!p || typeof p !== 'object' || Array.isArray(p)) {
      this.violation('gateway-decode', 'payload is not a JSON object {op, d}', conn);
      this.closeConn(conn, 4002, 'Error while decoding payload.');
      return;
    }
    if (!('d' in p)) this.violation('gateway-payload-shape', `payload without "d" (op ${p.op}); send {op, d}`, conn);
    const authed = conn.identified || conn.resumed;
    switch (p.op) {
      case OP.HEARTBEAT: return this.onHeartbeat(conn, p.d ?? null);
      case OP.IDENTIFY: return this.onIdentify(conn, p.d);
      case OP.RESUME: return this.onResume(conn, p.d);
      default:
        if (OTHER_CLIENT_OPS.has(p.op)) {
          if (!authed || conn.invalidated) {
            this.violation('gateway-not-authenticated', `sent op ${p.op} before identifying`, conn);
            this.closeConn(conn, 4003, 'Not authenticated.');
          } else if (p.op === OP.PRESENCE_UPDATE) this.checkPresence(conn, p.d, 'op 3');
          return;
        }
        this.violation('gateway-unknown-op', `sent unknown opcode ${JSON.stringify(p.op)}`, conn);
        this.closeConn(conn, 4001, 'Unknown opcode.');
    }
  }

  onHeartbeat(conn, d) {
    const now = Date.now();
    if (d !== null && !Number.isInteger(d)) {
      this.violation('heartbeat-seq', `heartbeat d must be the last sequence number or null, got ${JSON.stringify(d)}`, conn);
      this.closeConn(conn, 4001, 'Invalid payload.');
      return;
    }
    this.checkHeartbeatSeq(conn, d, now);
    conn.heartbeats++;
    conn.lastHeartbeatAt = now;
    if (conn.app) conn.app.stats.heartbeats++;
    if (conn.requestedBeat) { clearTimeout(conn.requestedBeat.timer); conn.requestedBeat = null; }
    conn.hbTimer.refresh();
    if (conn.app?.silenced) return;           // gatewaySilence(): a zombied connection
    conn.acks++;
    this.send(conn, { op: OP.HEARTBEAT_ACK, d: null, s: null, t: null });
  }

  // The heartbeat must carry the last sequence number the client received. A dispatch still in
  // flight when the client built its heartbeat is fine; one delivered more than seqGraceMs ago
  // and not reflected is a bug (a stale or never-updated seq breaks resumes).
  checkHeartbeatSeq(conn, d, now) {
    const s = conn.session;
    if (!s || conn.lastSeqSent === null) return;
    if (d !== null && d > s.seq) {
      this.violation('heartbeat-seq', `heartbeat carries seq ${d}, but only ${s.seq} were dispatched`, conn);
      return;
    }
    const next = (d ?? 0) + 1;                  // first dispatch the client has not acknowledged
    if (next > conn.lastSeqSent) return;
    const first = s.log.length ? s.log[0].s : Infinity;
    const e = s.log[next - first];
    if (e && e.connId === conn.id && now - e.sentAt > this.opts.seqGraceMs) {
      this.violation('heartbeat-seq', `heartbeat carries seq ${d} although seq ${conn.lastSeqSent} was delivered ${now - e.sentAt} ms earlier`, conn);
    }
  }

  badPayload(conn, op, what) {
    this.violation('gateway-payload-shape', `${op}: ${what}`, conn);
    this.closeConn(conn, 4001, 'Invalid payload.');
  }

  onIdentify(conn, d) {
    const now = Date.now();
    if (conn.identified || conn.resumed) {
      this.violation('gateway-already-authenticated', 'sent a second identify/resume on one connection', conn);
      this.closeConn(conn, 4005, 'Already authenticated.');
      return;
    }
    if (!d || typeof d !== 'object' || Array.isArray(d)) return this.badPayload(conn, 'identify', 'd must be an object');
    if (typeof d.token !== 'string') return this.badPayload(conn, 'identify', 'd.token must be a string');
    if (conn.path === '/gateway-resume') this.violation('identify-url', 'identified on resume_gateway_url; identify on the URL from GET /gateway/bot', conn);
    if (conn.gotInvalidSession) this.violation('identify-after-invalid-session', 'identified on the connection that got op 9; open a new connection first', conn);
    let token = d.token;
    if (token.startsWith('Bot ')) {
      this.violation('identify-token', 'identify token must be the bare token, without "Bot "', conn);
      token = token.slice(4);
    }
    const app = this.state.appsByToken.get(token);
    if (!app) { this.closeConn(conn, 4004, 'Authentication failed.'); return; }
    conn.app = app;

    // Connection properties: {os, browser, device}; the $-prefixed names are deprecated.
    const props = d.properties;
    if (!props || typeof props !== 'object') {
      this.violation('identify-properties', 'identify without properties {os, browser, device}', conn);
    } else {
      for (const k of ['os', 'browser', 'device']) {
        if (typeof props[k] !== 'string') {
          this.violation('identify-properties', typeof props['$' + k] === 'string'
            ? `properties.$${k} is deprecated; send "${k}"` : `properties.${k} missing`, conn);
        }
      }
    }
    if (!Number.isInteger(d.intents) || d.intents < 0 || (d.intents & ~KNOWN_INTENTS)) {
      this.violation('identify-intents', `invalid intents ${JSON.stringify(d.intents)}`, conn);
      this.closeConn(conn, 4013, 'Invalid intent(s).');
      return;
    }
    if (d.intents & PRIVILEGED_INTENTS & ~app.privilegedIntents) {
      this.violation('identify-intents', `privileged intents ${d.intents & PRIVILEGED_INTENTS & ~app.privilegedIntents} not enabled for this app`, conn);
      this.closeConn(conn, 4014, 'Disallowed intent(s).');
      return;
    }
    let shard = null;
    if (d.shard !== undefined && d.shard !== null) {
      const [id, n] = Array.isArray(d.shard) ? d.shard : [];
      if (!Array.isArray(d.shard) || d.shard.length !== 2 || !Number.isInteger(id) || !Number.isInteger(n) || n < 1 || id < 0 || id >= n) {
        this.violation('identify-shard', `invalid shard ${JSON.stringify(d.shard)}`, conn);
        this.closeConn(conn, 4010, 'Invalid shard.');
        return;
      }
      shard = [id, n];
    }
    if (d.large_threshold !== undefined && (!Number.isInteger(d.large_threshold) || d.large_threshold < 50 || d.large_threshold > 250)) {
      this.violation('identify-payload', `large_threshold must be 50-250, got ${JSON.stringify(d.large_threshold)}`, conn);
    }
    if (d.compress === true) this.violation('identify-payload', 'the fake does not implement payload compression (compress: true)', conn);
    if (d.presence !== undefined) this.checkPresence(conn, d.presence, 'identify.presence');

    // At most max_concurrency identifies per 5 s per app; one more is answered with op 9
    // (gateway.mdx §Identifying, §Sharding).
    const recent = app.identifies;
    while (recent.length && now - recent[0].at >= this.opts.identifyWindowMs) recent.shift();
    if (recent.length >= this.opts.maxConcurrency) {
      app.stats.identifyRateLimited++;
      // A client that starts fresh (a daemon restart) cannot know about an identify made a
      // moment ago by its previous run; Discord's op 9 is then the expected answer, not a bug.
      // It is one when the client had been told (an op 9 for this in the window) or when it
      // identifies while its previous identify's connection is still open.
      const prev = recent[recent.length - 1];
      const told = app.identifyOp9At && now - app.identifyOp9At < this.opts.identifyWindowMs;
      if (told || prev.conn.state !== 'closed') {
        this.violation('identify-rate-limit', `identified ${now - prev.at} ms after the previous identify (max_concurrency ${this.opts.maxConcurrency} per ${this.opts.identifyWindowMs} ms)${told ? ' and after an op 9 for it' : ' while that connection is open'}`, conn);
      }
      app.identifyOp9At = now;
      conn.gotInvalidSession = true;
      this.send(conn, { op: OP.INVALID_SESSION, d: false, s: null, t: null });
      return;
    }
    // 1000 identifies per 24 h; past that Discord resets the token and ends every session.
    const day = app.identifyDay;
    if (now - day.start > 86400000) { day.start = now; day.count = 0; }
    if (day.count >= this.opts.identifyDailyLimit) {
      this.violation('identify-daily-limit', `more than ${this.opts.identifyDailyLimit} identifies in 24 h: Discord resets the token`, conn);
      this.state.revokeToken(app.token);
      this.closeApp(app, 4004, 'Authentication failed.');
      this.closeConn(conn, 4004, 'Authentication failed.');
      return;
    }
    day.count++;
    recent.push({ at: now, conn });
    app.stats.identifies++;

    const session = {
      id: newSessionId(), app, shard, intents: d.intents, seq: 0, log: [], conn, createdAt: now,
      disconnectedAt: null, invalid: false, resumes: 0,
    };
    this.sessions.set(session.id, session);
    app.sessions.add(session);
    conn.session = session;
    conn.identified = true;
    conn.invalidated = false;
    conn.state = 'identified';
    this.remember(app, conn);

    const guilds = [...app.guilds].filter((g) => !shard || shardOf(g, shard[1]) === shard[0]);
    const ready = {
      v: 10, user: { ...this.state.userJson(app.botUserId), verified: true, mfa_enabled: false, email: null },
      guilds: guilds.map((id) => ({ id, unavailable: true })), session_id: session.id,
      resume_gateway_url: `${this.fake.wsBase}/gateway-resume`, session_type: 'normal',
      application: { id: app.id, flags: app.flags }, private_channels: [], presences: [], relationships: [],
      guild_join_requests: [], geo_ordered_rtc_regions: ['brazil'], auth: {}, user_settings: {},
      _trace: [`["fake-gateway",{"micros":0}]`],
    };
    if (shard) ready.shard = shard;
    this.dispatch(session, 'READY', ready);
    if (d.intents & 1) {
      for (const gid of guilds) {
        const g = this.state.guilds.get(gid);
        if (g) this.dispatch(session, 'GUILD_CREATE', this.state.guildCreateJson(g, app));
      }
    }
  }

  checkPresence(conn, p, where) {
    const ok = p && typeof p === 'object' && ['online', 'dnd', 'idle', 'invisible', 'offline'].includes(p.status)
      && Array.isArray(p.activities) && (p.since === null || Number.isInteger(p.since)) && typeof p.afk === 'boolean';
    if (!ok) this.violation('gateway-payload-shape', `${where}: presence must be {since, activities, status, afk}`, conn);
  }

  onResume(conn, d) {
    const now = Date.now();
    if (conn.identified || conn.resumed) {
      this.violation('gateway-already-authenticated', 'sent resume on an authenticated connection', conn);
      this.closeConn(conn, 4005, 'Already authenticated.');
      return;
    }
    if (!d || typeof d !== 'object' || typeof d.token !== 'string' || typeof d.session_id !== 'string' || !Number.isInteger(d.seq)) {
      return this.badPayload(conn, 'resume', 'd must be {token, session_id, seq (integer)}');
    }
    if (conn.path !== '/gateway-resume') this.violation('resume-url', 'resumed on the identify URL; resume on resume_gateway_url from READY', conn);
    const app = this.state.appsByToken.get(d.token);
    if (!app) { this.closeConn(conn, 4004, 'Authentication failed.'); return; }
    conn.app = app;
    const s = this.sessions.get(d.session_id);
    if (!s || s.app !== app || this.expired(s, now)) {
      if (s && !s.invalid) this.invalidate(s);
      conn.gotInvalidSession = true;
      this.send(conn, { op: OP.INVALID_SESSION, d: false, s: null, t: null });
      return;
    }
    if (d.seq > s.seq) {
      this.violation('resume-seq', `resumed with seq ${d.seq}, but the session is at ${s.seq}`, conn);
      this.closeConn(conn, 4007, 'Invalid seq.');
      this.invalidate(s);
      return;
    }
    const first = s.log.length ? s.log[0].s : s.seq + 1;
    if (d.seq + 1 < first) {                  // the events it missed are gone
      this.invalidate(s);
      conn.gotInvalidSession = true;
      this.send(conn, { op: OP.INVALID_SESSION, d: false, s: null, t: null });
      return;
    }
    if (s.conn && s.conn !== conn) this.dropConn(s.conn, 'server-replaced-by-resume');
    s.conn = conn;
    s.disconnectedAt = null;
    s.resumes++;
    conn.session = s;
    conn.resumed = true;
    conn.invalidated = false;
    conn.state = 'resumed';
    app.stats.resumes++;
    this.remember(app, conn);
    for (let i = Math.max(0, d.seq + 1 - first); i < s.log.length; i++) this.sendEntry(conn, s.log[i]);
    this.dispatch(s, 'RESUMED', { _trace: [`["fake-gateway",{"micros":0}]`] });
  }

  remember(app, conn) {
    app.connections.push(conn);
    if (app.connections.length > HISTORY_MAX) app.connections.shift();
  }

  // ---- dispatching ----

  dispatch(session, t, d) {
    const entry = { s: ++session.seq, t, d, sentAt: 0, connId: 0 };
    session.log.push(entry);
    if (session.log.length > LOG_MAX) session.log.shift();
    const c = session.conn;
    if (c && c.state !== 'closed' && !c.close) this.sendEntry(c, entry);
  }

  sendEntry(conn, entry) {
    entry.sentAt = Date.now();
    entry.connId = conn.id;
    conn.lastSeqSent = entry.s;
    this.send(conn, { op: OP.DISPATCH, d: entry.d, s: entry.s, t: entry.t });
  }

  // Sends event `t` to every live or resumable session of the app that should get it: the
  // intent (if any) is in its intents, and the guild is on its shard (events without a guild
  // go to shard 0). `make(session)` builds the payload; null skips that session.
  toApp(app, t, make, { guildId = null, intent = 0 } = {}) {
    let delivered = 0;
    const now = Date.now();
    for (const s of app.sessions) {
      if (this.expired(s, now)) { this.invalidate(s); continue; }
      if (intent && !(s.intents & intent)) continue;
      if (s.shard && (guildId ? shardOf(guildId, s.shard[1]) : 0) !== s.shard[0]) continue;
      const d = make(s);
      if (d === null || d === undefined) continue;
      this.dispatch(s, t, d);
      delivered++;
    }
    return delivered;
  }

  // ---- faults and inspection ----

  liveConns(app) {
    const out = [];
    for (const s of app.sessions) if (s.conn && s.conn.state !== 'closed' && !s.conn.close) out.push(s.conn);
    return out;
  }

  reconnect(app) {
    for (const c of this.liveConns(app)) {
      this.send(c, { op: OP.RECONNECT, d: null, s: null, t: null });
      // "A few seconds after the reconnect event is dispatched, the connection may be closed
      // by the server": if the bot has not moved by then, cut it.
      setTimeout(() => this.dropConn(c, 'server-after-reconnect'), this.opts.reconnectCloseMs).unref();
    }
  }

  invalidSession(app, resumable) {
    for (const c of this.liveConns(app)) {
      this.send(c, { op: OP.INVALID_SESSION, d: !!resumable, s: null, t: null });
      c.gotInvalidSession = true;
      if (!resumable) {
        // The connection is no longer authenticated: ops other than heartbeat/identify/resume
        // get 4003; a new identify is accepted (but should come on a new connection).
        this.invalidate(c.session);
        c.session.conn = null;
        c.session = null;
        c.identified = c.resumed = false;
        c.invalidated = true;
        c.state = 'invalidated';
      }
      setTimeout(() => this.dropConn(c, 'server-after-invalid-session'), this.opts.reconnectCloseMs).unref();
    }
  }

  closeApp(app, code, reason = '') {
    for (const c of this.liveConns(app)) this.closeConn(c, code, reason);
  }

  drop(app) {
    for (const c of this.liveConns(app)) this.dropConn(c);
  }

  // Server op 1: the client must answer with a heartbeat at once.
  requestHeartbeat(app) {
    for (const c of this.liveConns(app)) {
      this.send(c, { op: OP.HEARTBEAT, d: null, s: null, t: null });
      clearTimeout(c.requestedBeat?.timer);
      c.requestedBeat = { at: Date.now(), timer: setTimeout(() => {
        if (c.state !== 'closed' && !c.close) this.violation('heartbeat-request-ignored', `no heartbeat within ${this.opts.heartbeatRequestTimeoutMs} ms of a server op 1`, c);
      }, this.opts.heartbeatRequestTimeoutMs) };
      c.requestedBeat.timer.unref();
    }
  }

  // restart(): every connection goes away abruptly; sessions stay resumable.
  dropAll(by = 'server-restart') {
    for (const c of [...this.conns]) this.dropConn(c, by);
  }

  closeAll() {
    for (const c of [...this.conns]) {
      c.close ??= { code: 1001, reason: 'fake closing', by: 'server-shutdown', at: Date.now() };
      clearTimeout(c.hbTimer);
      c.ws.terminate();
    }
    this.wss.close();
  }

  connView(c) {
    return {
      id: c.id, sessionId: c.session?.id ?? null, shard: c.session?.shard ?? null, path: c.path, query: c.query,
      userAgent: c.userAgent, state: c.state, identified: c.identified ? 1 : 0, resumed: c.resumed ? 1 : 0,
      heartbeats: c.heartbeats, acks: c.acks, lastSeqSent: c.lastSeqSent, seq: c.session?.seq ?? null,
      intents: c.session?.intents ?? null, openedAt: c.openedAt, closedAt: c.closedAt, close: c.close ? { ...c.close } : null,
    };
  }

  connections(app) {
    return app.connections.map((c) => this.connView(c));
  }

  stats(app) {
    const live = this.liveConns(app);
    return { identifies: app.stats.identifies, identifyRateLimited: app.stats.identifyRateLimited,
      resumes: app.stats.resumes, heartbeats: app.stats.heartbeats,
      open: live.length, sessions: app.sessions.size, closes: app.stats.closes.map((c) => ({ ...c })),
      sessionIds: [...app.sessions].map((s) => s.id) };
  }
}

