// Discord OAuth2 for the fake: the authorization code grant with PKCE, as a web app's
// "Log in with Discord" uses it (developers/topics/oauth2.mdx). Three endpoints:
//
//   GET  /oauth2/authorize          the consent screen's stand-in: validates the request as
//                                   Discord does, then "approves" as the user chosen with
//                                   oauthAs(userId) and redirects 302 to redirect_uri?code&state
//                                   (oauthAs(null): the user clicks Cancel, error=access_denied)
//   POST /api/v10/oauth2/token      application/x-www-form-urlencoded; client auth in the body or
//                                   HTTP Basic; code single use, 10 min, bound to its client,
//                                   redirect_uri and PKCE challenge (S256)
//   GET  /api/v10/users/@me         with "Authorization: Bearer <access token>": the user
//                                   (email and verified only with the email scope)
//
// Strict like Discord: a wrong secret is 401 invalid_client, a wrong/reused/expired code, a
// different redirect_uri or a bad code_verifier is 400 invalid_grant. Each refusal is also a
// violation (kind "oauth-*"), so a test that provokes one on purpose takes it with
// fake.takeViolations(/^oauth-/).
import crypto from 'node:crypto';
import { snowflake, randomChars } from './ids.mjs';

const CODE_TTL_MS = 10 * 60 * 1000;
const TOKEN_TTL_S = 7 * 24 * 3600;            // Discord's access tokens last a week
// Scopes Discord knows (topics/oauth2.mdx §Shared Resources > OAuth2 Scopes).
const SCOPES = new Set(['activities.read', 'activities.write', 'applications.builds.read', 'applications.builds.upload',
  'applications.commands', 'applications.commands.update', 'applications.commands.permissions.update',
  'applications.entitlements', 'applications.store.update', 'bot', 'connections', 'dm_channels.read', 'email',
  'gdm.join', 'guilds', 'guilds.join', 'guilds.members.read', 'identify', 'messages.read',
  'relationships.read', 'role_connections.write', 'rpc', 'rpc.activities.write', 'rpc.notifications.read',
  'rpc.voice.read', 'rpc.voice.write', 'voice', 'webhook.incoming', 'openid']);
const B64URL_43 = /^[A-Za-z0-9_-]{43}$/;
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

const s256 = (v) => crypto.createHash('sha256').update(v).digest('base64url');

class OAuthError extends Error {
  constructor(status, error, description, kind) {
    super(description);
    this.status = status;
    this.error = error;
    this.kind = kind;
  }
}

export class OAuth {
  constructor(fake) {
    this.fake = fake;
    this.clients = new Map();   // clientId -> { id, secret, redirectUris, name }
    this.codes = new Map();     // code -> grant
    this.tokens = new Map();    // access token -> { userId, clientId, scopes, expiresAt, code }
    this.actor = undefined;     // user id that approves; null denies; undefined: not set up
  }

  // Registers an OAuth2 application (its client id and secret, and its redirect URIs).
  createClient({ redirectUri, redirectUris, name = 'Astra' } = {}) {
    const uris = redirectUris || (redirectUri ? [redirectUri] : []);
    if (!uris.length) throw new Error('createOAuthClient: give redirectUri (or redirectUris)');
    const client = { id: snowflake(), secret: randomChars(32), redirectUris: uris, name };
    this.clients.set(client.id, client);
    return { clientId: client.id, clientSecret: client.secret };
  }

  // Who clicks "Authorize" on the consent screen from now on (null: who clicks "Cancel").
  as(userId) {
    if (userId !== null && !this.fake.state.users.has(userId)) throw new Error(`oauthAs: unknown user ${userId}`);
    this.actor = userId;
  }

  handles(req, url) {
    const p = url.pathname;
    if (p === '/oauth2/authorize' || p === '/api/oauth2/authorize' || p === '/api/v10/oauth2/authorize') return true;
    if (p === '/api/v10/oauth2/token' || p === '/api/oauth2/token') return true;
    return p === '/api/v10/users/@me' && /^Bearer /i.test(req.headers.authorization || '');
  }

  async handle(req, res, url) {
    const at = Date.now();
    const entry = { at, method: req.method, path: url.pathname.replace(/^\/api\/v10/, ''), route: null, appId: null,
      token: null, status: 0, code: undefined, ms: 0, bucket: null, body: undefined, files: [] };
    let out;
    try {
      if (url.pathname.endsWith('/authorize')) out = this.authorize(req, url);
      else if (url.pathname.endsWith('/token')) out = await this.token(req, entry);
      else out = this.me(req);
    } catch (e) {
      if (!(e instanceof OAuthError)) throw e;
      this.fake.violation(e.kind, `${req.method} ${url.pathname}: ${e.status} ${e.error}: ${e.message}`, { method: req.method, path: url.pathname });
      out = e.status === 401 && e.error === 'unauthorized'
        ? { status: 401, body: { message: '401: Unauthorized', code: 0 } }
        : { status: e.status, body: { error: e.error, error_description: e.message } };
    }
    const headers = { ...(out.headers || {}) };
    let payload = null;
    if (out.body !== undefined) {
      payload = JSON.stringify(out.body);
      headers['Content-Type'] = 'application/json';
    }
    res.writeHead(out.status, headers);
    res.end(payload);
    entry.status = out.status;
    entry.ms = Date.now() - at;
    entry.route = url.pathname.endsWith('/authorize') ? 'GET /oauth2/authorize'
      : url.pathname.endsWith('/token') ? 'POST /oauth2/token' : 'GET /users/@me (Bearer)';
    this.fake.recordRequest(entry);
  }

  // ---- GET /oauth2/authorize ----

  authorize(req, url) {
    if (req.method !== 'GET') throw new OAuthError(405, 'invalid_request', 'Method Not Allowed', 'oauth-authorize');
    const q = url.searchParams;
    const client = this.clients.get(q.get('client_id') || '');
    if (!client) throw new OAuthError(400, 'invalid_client', 'Unknown Application (client_id)', 'oauth-authorize-client');
    const redirectUri = q.get('redirect_uri');
    // Discord compares the redirect URI with the registered ones exactly (no prefix match).
    if (!redirectUri || !client.redirectUris.includes(redirectUri)) {
      throw new OAuthError(400, 'invalid_request', `Invalid OAuth2 redirect_uri ${JSON.stringify(redirectUri)}`, 'oauth-authorize-redirect');
    }
    if (q.get('response_type') !== 'code') {
      throw new OAuthError(400, 'unsupported_response_type', `response_type must be "code", got ${JSON.stringify(q.get('response_type'))}`, 'oauth-authorize-response-type');
    }
    const scopes = (q.get('scope') || '').split(' ').filter(Boolean);
    const unknown = scopes.filter((s) => !SCOPES.has(s));
    if (!scopes.length || unknown.length) {
      throw new OAuthError(400, 'invalid_scope', `Invalid scope(s): ${JSON.stringify(unknown.length ? unknown : q.get('scope'))}`, 'oauth-authorize-scope');
    }
    // Discord does not insist on state, but a login without one is open to CSRF (RFC 6749
    // §10.12): the fake refuses it so that a client that forgets it fails its tests.
    const state = q.get('state');
    if (!state) throw new OAuthError(400, 'invalid_request', 'state is required (CSRF protection)', 'oauth-authorize-state');
    const challenge = q.get('code_challenge');
    const method = q.get('code_challenge_method');
    if (challenge !== null || method !== null) {
      if (method !== 'S256') throw new OAuthError(400, 'invalid_request', `code_challenge_method must be S256, got ${JSON.stringify(method)}`, 'oauth-authorize-pkce');
      if (!challenge || !B64URL_43.test(challenge)) throw new OAuthError(400, 'invalid_request', 'code_challenge must be the base64url SHA-256 of the verifier (43 characters)', 'oauth-authorize-pkce');
    }
    if (this.actor === undefined) {
      throw new OAuthError(400, 'invalid_request', 'fake Discord: call oauthAs(userId) first (who approves the consent screen)', 'oauth-test-setup');
    }
    const sep = redirectUri.includes('?') ? '&' : '?';
    const st = `state=${encodeURIComponent(state)}`;
    if (this.actor === null) {
      return { status: 302, headers: { Location: `${redirectUri}${sep}error=access_denied&error_description=${encodeURIComponent('The resource owner or authorization server denied the request')}&${st}` } };
    }
    const code = randomChars(30);
    this.codes.set(code, { code, clientId: client.id, userId: this.actor, redirectUri, scopes, challenge,
      expiresAt: Date.now() + CODE_TTL_MS, used: false, tokens: [] });
    return { status: 302, headers: { Location: `${redirectUri}${sep}code=${encodeURIComponent(code)}&${st}` } };
  }

  // ---- POST /oauth2/token ----

  async token(req, entry) {
    if (req.method !== 'POST') throw new OAuthError(405, 'invalid_request', 'Method Not Allowed', 'oauth-token');
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const raw = Buffer.concat(chunks).toString('utf8');
    const ct = (req.headers['content-type'] || '').toLowerCase();
    if (!ct.startsWith('application/x-www-form-urlencoded')) {
      throw new OAuthError(400, 'invalid_request', `the body must be application/x-www-form-urlencoded, got ${JSON.stringify(ct || null)}`, 'oauth-token-content-type');
    }
    const form = new URLSearchParams(raw);
    const body = Object.fromEntries(form);
    entry.body = { ...body, ...(body.client_secret ? { client_secret: '***' } : {}) };

    // Client authentication: HTTP Basic or client_id + client_secret in the body (RFC 6749 §2.3.1).
    let id = body.client_id, secret = body.client_secret;
    const basic = /^Basic (\S+)$/i.exec(req.headers.authorization || '');
    if (basic) {
      const dec = Buffer.from(basic[1], 'base64').toString('utf8');
      const i = dec.indexOf(':');
      const bid = decodeURIComponent(dec.slice(0, i)), bsecret = decodeURIComponent(dec.slice(i + 1));
      if ((id && id !== bid) || secret) throw new OAuthError(400, 'invalid_request', 'client credentials both in Basic and in the body', 'oauth-token-client');
      id = bid;
      secret = bsecret;
    }
    const client = this.clients.get(id || '');
    if (!client || !secret || !crypto.timingSafeEqual(Buffer.from(s256(secret)), Buffer.from(s256(client.secret)))) {
      throw new OAuthError(401, 'invalid_client', 'Invalid client_id or client_secret', 'oauth-token-client');
    }
    if (body.grant_type !== 'authorization_code') {
      throw new OAuthError(400, 'unsupported_grant_type', `grant_type ${JSON.stringify(body.grant_type ?? null)} is not supported here`, 'oauth-token-grant-type');
    }
    const grant = this.codes.get(body.code || '');
    if (!grant || grant.clientId !== client.id) throw new OAuthError(400, 'invalid_grant', 'Invalid "code" in request.', 'oauth-token-code');
    if (grant.used) {
      // A code used twice may have been stolen: what was issued for it stops working too.
      for (const t of grant.tokens) this.tokens.delete(t);
      throw new OAuthError(400, 'invalid_grant', 'Invalid "code" in request. (already used)', 'oauth-token-code-reused');
    }
    grant.used = true;   // single use, even when the rest of this request is wrong
    if (grant.expiresAt < Date.now()) throw new OAuthError(400, 'invalid_grant', 'Invalid "code" in request. (expired)', 'oauth-token-code-expired');
    if (body.redirect_uri !== grant.redirectUri) {
      throw new OAuthError(400, 'invalid_grant', `Invalid "redirect_uri" in request. (${JSON.stringify(body.redirect_uri ?? null)} is not the authorize request's)`, 'oauth-token-redirect');
    }
    if (grant.challenge) {
      const v = body.code_verifier;
      if (!v || !VERIFIER.test(v) || s256(v) !== grant.challenge) {
        throw new OAuthError(400, 'invalid_grant', 'Invalid "code_verifier" in request.', 'oauth-token-verifier');
      }
    } else if (body.code_verifier !== undefined) {
      throw new OAuthError(400, 'invalid_grant', 'code_verifier sent for a code issued without code_challenge', 'oauth-token-verifier');
    }
    const access = randomChars(30), refresh = randomChars(30);
    this.tokens.set(access, { userId: grant.userId, clientId: client.id, scopes: grant.scopes,
      expiresAt: Date.now() + TOKEN_TTL_S * 1000 });
    grant.tokens.push(access);
    return { status: 200, body: { access_token: access, token_type: 'Bearer', expires_in: TOKEN_TTL_S,
      refresh_token: refresh, scope: grant.scopes.join(' ') } };
  }

  // ---- GET /users/@me with a Bearer token ----

  me(req) {
    if (req.method !== 'GET') throw new OAuthError(405, 'invalid_request', 'Method Not Allowed', 'oauth-me');
    const tok = /^Bearer (\S+)$/i.exec(req.headers.authorization || '')?.[1];
    const t = tok && this.tokens.get(tok);
    if (!t || t.expiresAt < Date.now()) throw new OAuthError(401, 'unauthorized', 'unknown or expired access token', 'oauth-me-token');
    if (!t.scopes.includes('identify')) throw new OAuthError(401, 'unauthorized', 'the token lacks the identify scope', 'oauth-me-scope');
    const u = this.fake.state.users.get(t.userId);
    const body = { ...this.fake.state.userJson(t.userId), mfa_enabled: false, locale: u.locale || 'pt-BR', premium_type: 0 };
    if (t.scopes.includes('email')) {
      body.email = u.email ?? null;
      body.verified = !!u.verified;
    }
    return { status: 200, body };
  }
}
