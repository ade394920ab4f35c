// The control API over HTTP, for benchmarks and scripts that drive the fake from a shell:
// POST /_control/<method> with a JSON body holding the method's arguments, either as an array
// (spread: ["<appId>", true]) or as one object (the single argument: {"name": "x"}).
// Answers 200 with the method's JSON result, 400 with {error} when the method throws.
//   curl -s -X POST localhost:PORT/_control/createApp -d '{"name":"shop"}'
//   curl -s -X POST localhost:PORT/_control/requests -d '{"since": 1700000000000, "limit": 100}'
const METHODS = new Set([
  'createApp', 'revokeToken', 'resetToken', 'createUser', 'setDmsClosed', 'createGuild', 'createChannel', 'createRole',
  'addMember', 'addBotToGuild', 'clickButton', 'selectValues', 'submitModal', 'runCommand', 'messages', 'dmsTo',
  'interactions', 'commands', 'channel', 'threadMembers', 'sessions', 'sessionStats', 'gatewayReconnect',
  'gatewayInvalidSession', 'gatewayClose', 'gatewaySilence', 'gatewayDrop', 'gatewayHeartbeatRequest', 'dispatch',
  'rateLimit', 'setBucketLimit', 'clearViolations', 'restart',
]);

export async function handleControl(fake, req, res, method) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const send = (status, body) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body ?? null, (k, v) => (typeof v === 'bigint' ? v.toString() : v)));
  };
  try {
    const text = Buffer.concat(chunks).toString('utf8').trim();
    const input = text ? JSON.parse(text) : undefined;
    if (method === 'violations') return send(200, fake.violations);
    if (method === 'requests') {
      // {since (ms), limit, appId, status} filters; newest last.
      const q = input || {};
      let list = fake.requests;
      if (q.since) list = list.filter((r) => r.at >= q.since);
      if (q.appId) list = list.filter((r) => r.appId === q.appId);
      if (q.status) list = list.filter((r) => r.status === q.status);
      if (q.limit) list = list.slice(-q.limit);
      return send(200, list.map(({ body, ...r }) => (q.bodies ? { ...r, body } : r)));
    }
    if (method === 'stats') {
      return send(200, { requests: fake.requests.length, violations: fake.violations.length,
        connections: fake.gateway.conns.size, sessions: fake.gateway.sessions.size, apps: fake.state.apps.size });
    }
    if (!METHODS.has(method)) return send(404, { error: `unknown control method ${method}` });
    const args = Array.isArray(input) ? input : input === undefined ? [] : [input];
    let result = await fake[method](...args);
    // Interaction handles carry a promise; over HTTP the caller polls /_control/interactions.
    if (result && typeof result === 'object' && result.response instanceof Promise) {
      const { response, ...rest } = result;
      result = rest;
    }
    return send(200, result);
  } catch (e) {
    return send(400, { error: e.message });
  }
}
