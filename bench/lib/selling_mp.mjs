// The fake Mercado Pago for bench/selling.mjs, in a child process of its own. Payments are made
// in process (as POST /v1/payments would make them, minus the HTTP round trip: 20,000 of them
// would take longer than the benchmark) and approved without a notification: the benchmark
// sends the signed webhooks itself and the daemon reads each payment back over HTTP here.
//   {"cmd":"pay","orders":[{id, cents, url, expiresAt}]} -> {"ids":[paymentId...]} (approved)
//   {"cmd":"stats"}                                     -> {requests, gets, violations}
// argv[2]: JSON options for startFakeMercadoPago.
import readline from 'node:readline';
import { startFakeMercadoPago } from '../../tests/fakes/mercadopago/server.mjs';

const mp = await startFakeMercadoPago({ notifyOnCreate: false, ipn: false, ...JSON.parse(process.argv[2] || '{}') });
mp.muteWebhooks(true);
const reply = (o) => process.stdout.write(JSON.stringify(o) + '\n');
reply({ apiBase: mp.apiBase, pid: process.pid });
const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const m = JSON.parse(line);
  if (m.cmd === 'pay') {
    const now = mp.now();
    const ids = m.orders.map((o) => {
      const body = { transaction_amount: o.cents / 100, description: `Pedido ${o.id.slice(0, 8)}`,
        payment_method_id: 'pix', external_reference: o.id, notification_url: o.url,
        payer: { email: 'comprador@astra.test' } };
      const p = mp.store.create(body, { now, expiresAt: o.expiresAt });
      mp.store.remember('payments', `astra-order-${o.id}`, body, { paymentId: p.id });
      mp.change(p.id, 'approved', 'accredited', { notify: false });
      return p.id;
    });
    reply({ ids });
  } else if (m.cmd === 'stats') {
    const gets = mp.requests({ route: 'GET /v1/payments/{id}' });
    reply({ requests: mp.log.length, gets: gets.length, getStatus: gets.reduce((a, r) => ((a[r.status] = (a[r.status] || 0) + 1), a), {}),
      violations: mp.violations().slice(0, 20) });
  }
});
rl.on('close', async () => { await mp.close().catch(() => {}); process.exit(0); });
