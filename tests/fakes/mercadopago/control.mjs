// The control API over HTTP, for C tests and benchmarks that run the fake as a child process:
// POST /_control/<method> with a JSON body holding the method's arguments, either as an array
// (spread: [130000000001, {"amount": 5}]) or as one object (the single argument: {"count": 2}).
// Answers 200 with the method's JSON result, 400 with {error} when it throws, 404 for an
// unknown method.
//   curl -s -X POST localhost:PORT/_control/approve -d '[130000000001]'
//   curl -s -X POST localhost:PORT/_control/deliveries -d '{"paymentId": "130000000001"}'
const METHODS = new Set([
  'approve', 'reject', 'expire', 'cancel', 'refund', 'chargeback', 'setStatus', 'payment', 'payments',
  'sendWebhook', 'deliveries', 'muteWebhooks', 'failNext', 'timeoutNext', 'setDelay', 'advanceTime',
  'requests', 'violations', 'clearViolations', 'takeViolations', 'stats',
]);

export async function handleControl(fake, req, res, method) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const send = (status, body) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body ?? null));
  };
  if (req.method !== 'POST') return send(405, { error: 'use POST' });
  if (!METHODS.has(method)) return send(404, { error: `unknown control method ${method}` });
  try {
    const text = Buffer.concat(chunks).toString('utf8').trim();
    const input = text ? JSON.parse(text) : undefined;
    const args = Array.isArray(input) ? input : input === undefined ? [] : [input];
    // Payment ids may come as JSON numbers; the fake keys them as strings.
    if (args.length && typeof args[0] === 'number') args[0] = String(args[0]);
    // Over HTTP a path filter for a fault may be "/regex/".
    if (['failNext', 'timeoutNext'].includes(method) && /^\/.+\/$/.test(args[0]?.path ?? '')) {
      args[0] = { ...args[0], path: new RegExp(args[0].path.slice(1, -1)) };
    }
    return send(200, await fake[method](...args));
  } catch (e) {
    return send(400, { error: e.message });
  }
}
