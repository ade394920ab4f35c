// No secret ever reaches a log: configured secrets, Authorization headers, tokens in URLs.
import { test, assert, eq } from './lib/harness.mjs';
import { startDaemon, ADMIN_TOKEN } from './lib/daemon.mjs';

test('no secret reaches astra.log or stderr', async () => {
  const secrets = {
    DISCORD_TOKEN: 'MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.discord-bot-token-secret-value',
    PORTAL_SESSION_SECRET: 'portal-session-secret-value-0123456789',
    DISCORD_OAUTH_CLIENT_SECRET: 'oauth-client-secret-value-987654',
    MERCADOPAGO_ACCESS_TOKEN: 'APP_USR-1234567890-mercadopago-access-token',
    MERCADOPAGO_WEBHOOK_SECRET: 'mp-webhook-secret-value-abcdef',
    DATA_ENCRYPTION_KEY: 'a1'.repeat(32),
  };
  const d = await startDaemon({ env: { ...secrets, LOG_LEVEL: 'debug' } });
  try {
    // Requests that put credentials where a careless logger would copy them.
    await fetch(`${d.admin}/api/status`, { headers: { authorization: 'Bearer some-guessed-admin-token-xyz' } });
    await d.adminFetch('/api/status');
    await fetch(`${d.portal}/api/nope?token=query-token-secret-555&access_token=${secrets.MERCADOPAGO_ACCESS_TOKEN}`);
    await fetch(`${d.portal}/api/${encodeURIComponent(secrets.DISCORD_TOKEN)}`);
    await d.adminFetch('/api/log-level', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ level: secrets.PORTAL_SESSION_SECRET }) });
  } finally {
    eq((await d.stop()).code, 0);
  }
  const text = d.logText() + d.stderr + d.stdout;
  assert(text.length > 200, 'something was logged');
  for (const [name, value] of Object.entries(secrets)) assert(!text.includes(value), `${name} leaked`);
  assert(!text.includes(ADMIN_TOKEN), 'admin token leaked');
  assert(!text.includes('query-token-secret-555'), 'token query parameter leaked');
  assert(!text.includes('some-guessed-admin-token-xyz'), 'Authorization header leaked');
});
