// Crash safety of the selling flow (the issue's words): during 200 purchases the daemon is
// killed with SIGKILL at random moments and restarted on the same data directory and port;
// afterwards every payment Mercado Pago approved is delivered exactly once, no key is sold
// twice, and the ledger matches the orders.
//
// The buyers act only through the fake Discord, as people do: Comprar (or the variation
// select on the post), Finalizar, and they pay the Pix code they see in their cart (the fake
// Mercado Pago approves the payment holding that code and sends its signed webhook). A click
// that got no answer because the daemon was down is clicked again; a cart whose Pix never
// showed is cancelled and the purchase started over. Meanwhile a loop kills the daemon 2-6 s
// after each start, restarting it once the previous run's identify is 5.2 s old (the fake
// enforces Discord's max_concurrency across processes). Then, after the last restart, the
// checks run from the outside (fake Discord DMs, fake Mercado Pago payments, the portal API)
// and on the data files after a clean stop.
import fs from 'node:fs';
import path from 'node:path';
import { test, assert, eq, until, sleep } from './lib/harness.mjs';
import { api } from './lib/portal_client.mjs';
import { startDaemon, sanitizerErrors } from './lib/daemon.mjs';
import { world, online, threadOf, cartMsg, cartIdOf } from './lib/selling.mjs';
import { signup } from './lib/portal_client.mjs';

const PURCHASES = Number(process.env.ASTRA_CRASH_PURCHASES || 200);
const CONCURRENCY = 25;
const KILLS_MIN = Number(process.env.ASTRA_CRASH_KILLS ?? 6);
const FEE_PERCENT = 5;

const rnd = (a, b) => a + Math.random() * (b - a);
const read = (dir, ...p) => JSON.parse(fs.readFileSync(path.join(dir, 'data', ...p), 'utf8'));

// The seller's store: three products, two with variations; 230 keys. The demand below is
// larger than the stock of two slots, so buyers race for their last keys.
async function crashStore(w) {
  const s = await signup(w.d);
  const inst = await (await api(w.d, s, 'POST', '/api/instances', { name: 'Loja Resistente' })).json();
  eq((await api(w.d, s, 'PUT', `/api/instances/${inst.id}/token`, { token: w.app.token })).status, 200);
  const general = w.guild.defaultChannelId;
  eq((await api(w.d, s, 'PATCH', `/api/instances/${inst.id}`, { settings: { storeChannelId: general } })).status, 200);
  const mk = async (body) => {
    const r = await api(w.d, s, 'POST', `/api/instances/${inst.id}/products`, body);
    eq(r.status, 201);
    return r.json();
  };
  const conta = await mk({ name: 'Conta Premium', priceCents: 1990,
    variations: [{ name: 'Mensal', priceCents: 1990 }, { name: 'Anual', priceCents: 4990 }] });
  const chave = await mk({ name: 'Chave Steam', priceCents: 537 });
  const gift = await mk({ name: 'Gift Card', priceCents: 1000,
    variations: [{ name: 'R$ 10', priceCents: 1000 }, { name: 'R$ 55', priceCents: 5533 }] });
  // slot: what a buyer asks for; keys: how many; want: how many purchases aim at it first
  const slots = [
    { name: 'mensal', product: conta, variation: conta.variations[0], keys: 55, want: 50 },
    { name: 'anual', product: conta, variation: conta.variations[1], keys: 20, want: 30 },
    { name: 'steam', product: chave, variation: null, keys: 90, want: 60 },
    { name: 'gift10', product: gift, variation: gift.variations[0], keys: 40, want: 35 },
    { name: 'gift55', product: gift, variation: gift.variations[1], keys: 25, want: 25 },
  ];
  const keyOwner = new Map(); // key text -> slot
  for (const sl of slots) {
    sl.id = sl.variation ? sl.variation.id : sl.product.id;
    sl.price = sl.variation ? sl.variation.priceCents : sl.product.priceCents;
    const keys = Array.from({ length: sl.keys }, (_, i) =>
      `KEY-${sl.name}-${i}-${Math.random().toString(36).slice(2, 10)}`);
    for (const k of keys) keyOwner.set(k, sl);
    const r = await api(w.d, s, 'POST', `/api/instances/${inst.id}/stock`, { productId: sl.product.id,
      ...(sl.variation ? { variationId: sl.variation.id } : {}), text: keys.join('\n') });
    eq(r.status, 200);
  }
  eq((await api(w.d, s, 'POST', `/api/instances/${inst.id}/start`)).status, 200);
  await online(w, s, inst.id);
  const posts = {};
  for (const p of [conta, chave, gift]) {
    const r = await api(w.d, s, 'POST', `/api/instances/${inst.id}/products/${p.id}/post`);
    eq(r.status, 200);
    posts[p.id] = (await r.json()).post.messageId;
  }
  return { s, inst, slots, keyOwner, posts };
}

test('200 purchases while the daemon is SIGKILLed and restarted: every approved payment delivered exactly once', async () => {
  const w = await world({ env: { PAYMENT_RECONCILE_SECONDS: '2' } });
  const started = Date.now();
  const stats = { ixRetries: 0, restarts: 0, cancels: 0, noCartMsg: 0, gaveUp: 0, soldOutSwitch: 0, soldOutCheckout: 0, noPix: 0 };
  const log = [];
  const note = (m) => log.push(`${((Date.now() - started) / 1000).toFixed(1)}s ${m}`);
  let purchasesDone = false, stopChaos = false, chaos = Promise.resolve();
  const sanitizer = [];
  const restarts = [];
  const idents = () => w.fake.sessionStats(w.app.appId).identifies;
  // The fake gives every route Discord's usual 5 requests per 5 s; thread and DM channel
  // creation would then pace this test at one sale a second (200 s). Those two buckets get
  // 50 per second here (still under the 50/s global limit the daemon must respect).
  w.fake.setBucketLimit('POST /channels/{channel_id}/threads', 50, 1);
  w.fake.setBucketLimit('POST /users/@me/channels', 50, 1);
  try {
    const st = await crashStore(w);
    const appId = w.app.appId;
    const buyers = Array.from({ length: PURCHASES * 3 }, (_, i) => {
      const u = w.fake.createUser({ username: `comprador${i}` });
      w.fake.addMember(w.guild.id, u.id);
      return u;
    });
    let nextBuyer = 0;
    const approved = []; // {paymentId, orderId, buyerId, slot}
    const byBuyer = new Map(); // buyer id -> number of approved payments

    // ---- the killer ----
    let lastIdent = { n: idents(), at: Date.now() };
    chaos = (async () => {
      let kills = 0;
      while (!stopChaos && KILLS_MIN > 0 && (kills < KILLS_MIN || (!purchasesDone && kills < 10))) {
        await sleep(rnd(2000, 6000));
        if (stopChaos || (purchasesDone && kills >= KILLS_MIN)) break;
        const dead = w.d;
        await dead.kill();
        kills++;
        const san = sanitizerErrors(dead.stderr);
        if (san) sanitizer.push(san);
        note(`kill ${kills}`);
        // the new run identifies at once: 5.2 s after the last identify the fake saw
        const wait = lastIdent.at + 5200 - Date.now();
        await sleep(Math.max(wait, rnd(50, 800)));
        const spawnedAt = Date.now();
        w.d = await startDaemon({ dir: w.dir, env: w.env, portalPort: w.portalPort });
        w.d.startedAtMs = spawnedAt;
        stats.restarts++;
        const before = lastIdent.n;
        await until(() => idents() > before, { what: 'the restarted bot identifies', timeout: 20000, every: 10 });
        lastIdent = { n: idents(), at: Date.now() };
        restarts.push(w.d.startedAtMs);
        note(`restart ${kills} identified`);
      }
    })();

    // One click as a person makes it: again while there is no answer (the daemon is down).
    // Resolves with the text the buyer reads: the answer's content, or after a deferral (the
    // handler took its time) the follow-up that came within `wait` ms ('' if none).
    const press = async (make, what, wait = 4000) => {
      for (let i = 0; i < 40; i++) {
        let h;
        try {
          h = make();
        } catch (e) {
          // the message or component is not there (yet): look again shortly
          if (i >= 5) return { type: 0, text: '', error: `${what}: ${e.message}` };
          await sleep(300);
          continue;
        }
        let res;
        try {
          res = await h.response;
        } catch {
          stats.ixRetries++;
          await sleep(rnd(200, 800));
          continue;
        }
        if (res.type === 4) return { type: 4, text: res.data?.content || '', id: h.id };
        if (res.type !== 6 && res.type !== 5) return { type: res.type, text: '', id: h.id };
        const text = await waitFor(() => later(h.id), wait);
        return { type: res.type, text: text || '', id: h.id };
      }
      throw new Error(`${what}: no answer after 40 clicks`);
    };
    const later = (id) => {
      const v = w.fake.interactions(id);
      return v?.followups?.find((m) => m?.content)?.content || v?.original?.content || '';
    };
    const pixOf = (th) => {
      const m = w.fake.messages(th).find((x) => !x._deleted && x.attachments?.length && /Pix/.test(x.content || ''));
      return m?.content.match(/```\n([^`]+)\n```/)?.[1] ?? null;
    };
    const waitFor = async (fn, ms) => {
      const end = Date.now() + ms;
      for (;;) {
        const v = fn();
        if (v) return v;
        if (Date.now() > end) return null;
        await sleep(100);
      }
    };

    // One purchase: a buyer, Comprar (or the variation on the post), Finalizar, pay the Pix.
    const purchase = async (first) => {
      let slot = first;
      for (let attempt = 0; attempt < 6; attempt++) {
        const buyer = buyers[nextBuyer++];
        const pick = () => (slot.variation
          ? w.fake.selectValues({ appId, messageId: st.posts[slot.product.id], customId: `astra:pick:${slot.product.id}`, values: [slot.variation.id], userId: buyer.id })
          : w.fake.clickButton({ appId, messageId: st.posts[slot.product.id], customId: `astra:buy:${slot.product.id}`, userId: buyer.id }));
        let th = null, msg = null, waits = 0;
        for (let k = 0; k < 5 && !msg; k++) {
          const res = await press(pick, 'Comprar');
          th = threadOf(res.text);
          // deferred and then nothing (the daemon died meanwhile), or still being made: again
          if (!th && (!res.text || /criado|aguarde/.test(res.text))) { k--; await sleep(1000); if (++waits > 30) break; continue; }
          if (!th) {
            // sold out (or unavailable): this buyer picks the product with the most keys left
            stats.soldOutSwitch++;
            if (stats.soldOutSwitch < 10) note(`Comprar: ${JSON.stringify(res)}`);
            break;
          }
          msg = await waitFor(() => cartMsg(w, th), 4000);
        }
        if (!th && waits > 30) { stats.gaveUp++; continue; }
        if (!th) {
          slot = st.slots.find((x) => x.name === 'steam');
          continue;
        }
        if (!msg) { stats.noCartMsg++; continue; }
        const cartId = cartIdOf(msg);
        const checkout = () => w.fake.clickButton({ appId, channelId: th, customId: `astra:cart:checkout:${cartId}`, userId: buyer.id });
        let code = null;
        for (let k = 0; k < 3 && !code; k++) {
          const res = await press(checkout, 'Finalizar', 0);
          const soldOut = () => /estoque|disponível/i.test(res.text || later(res.id));
          code = await waitFor(() => pixOf(th) || (soldOut() && 'sold out'), res.error ? 2500 : 5000);
          if (!code && res.error) k = 3; // no Finalizar to click (sold out, or a checkout under way that died)
          if (code === 'sold out') { stats.soldOutCheckout++; code = null; break; }
          if (!code) stats.noPix++;
        }
        if (!code) {
          // no Pix shown (the checkout died with the daemon, or no stock): Cancelar, start over
          stats.cancels++;
          const cancel = () => w.fake.clickButton({ appId, channelId: th, customId: `astra:cart:cancel:${cartId}`, userId: buyer.id });
          await press(cancel, 'Cancelar').catch(() => {});
          slot = st.slots.find((x) => x.name === 'steam');
          continue;
        }
        const pay = w.mp.payments().find((p) => p.point_of_interaction?.transaction_data?.qr_code === code);
        assert(pay, `the Pix shown in ${th} is a payment at Mercado Pago`);
        assert(pay.status === 'pending', `payment ${pay.id} is pending when the buyer pays it (${pay.status})`);
        await sleep(rnd(0, 1500)); // the buyer opens the bank app
        w.mp.approve(pay.id);
        approved.push({ paymentId: String(pay.id), orderId: pay.external_reference, buyerId: buyer.id, slot, amount: pay.transaction_amount });
        byBuyer.set(buyer.id, (byBuyer.get(buyer.id) || 0) + 1);
        return;
      }
      stats.gaveUp++;
    };

    const progress = process.env.ASTRA_CRASH_DEBUG && setInterval(() => console.log(`# ${((Date.now() - started) / 1000).toFixed(0)}s approved ${approved.length} buyers ${nextBuyer} ${JSON.stringify(stats)}\n${log.splice(0).join('\n')}`), 5000);
    const queue = [];
    for (const sl of st.slots) for (let i = 0; i < sl.want; i++) queue.push(sl);
    queue.sort(() => Math.random() - 0.5);
    eq(queue.length, PURCHASES);
    const workers = Array.from({ length: CONCURRENCY }, async () => {
      while (queue.length) await purchase(queue.pop());
    });
    await Promise.all(workers);
    clearInterval(progress);
    if (process.env.ASTRA_CRASH_DEBUG) {
      const by = {};
      for (const r of w.fake.requests) if (r.status === 429) by[r.route] = (by[r.route] || 0) + 1;
      console.log(`# 429s: ${JSON.stringify(by)}`);
    }
    purchasesDone = true;
    note(`purchases done: ${approved.length} approved`);
    await chaos;
    note(`chaos done`);
    assert(stats.restarts >= KILLS_MIN, `killed ${stats.restarts} times`);
    eq(sanitizer, [], 'no sanitizer report before a kill');

    // ---- quiescence: every approved payment's order delivered, one DM each ----
    const dms = (id) => w.fake.dmsTo(id).filter((m) => !m._deleted);
    const order = async (id) => (await api(w.d, st.s, 'GET', `/api/instances/${st.inst.id}/orders/${id}`)).json();
    await until(async () => {
      for (const a of approved) if ((await order(a.orderId)).status !== 'delivered') return false;
      return approved.every((a) => dms(a.buyerId).length >= byBuyer.get(a.buyerId));
    }, { what: 'every approved payment delivered', timeout: 40000, every: 500 });
    note('quiescent');
    await sleep(2500); // post edits and late duplicates, if any, land
    const daemonSecs = ((Date.now() - started) / 1000).toFixed(1);

    // ---- from the outside ----
    const mpPays = w.mp.payments();
    const approvedIds = new Set(mpPays.filter((p) => p.status === 'approved').map((p) => String(p.id)));
    eq([...approvedIds].sort(), approved.map((a) => a.paymentId).sort(), 'the payments approved are those the buyers paid');
    const orders = [];
    for (let cursor = null; ;) {
      const r = await (await api(w.d, st.s, 'GET', `/api/instances/${st.inst.id}/orders?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).json();
      orders.push(...r.orders);
      if (!r.nextCursor) break;
      cursor = r.nextCursor;
    }
    const byId = new Map(orders.map((o) => [o.id, o]));
    const paidish = orders.filter((o) => ['paid', 'delivered', 'waiting_stock'].includes(o.status));
    eq(paidish.length, approved.length, 'one paid order per approved payment');
    for (const a of approved) {
      const o = byId.get(a.orderId);
      assert(o, `order ${a.orderId} of payment ${a.paymentId} exists`);
      eq(o.status, 'delivered', `order ${o.id}`);
      eq(o.buyerId, a.buyerId, `order ${o.id}'s buyer`);
      eq(o.totalCents, Math.round(a.amount * 100), `order ${o.id}'s total is the amount paid`);
      eq(o.timeline.filter((e) => e.status === 'paid').length, 1, `order ${o.id} paid once`);
      eq(o.timeline.filter((e) => e.status === 'delivered').length, 1, `order ${o.id} delivered once`);
    }
    for (const o of orders) {
      if (o.status === 'pending') {
        const p = mpPays.find((x) => x.external_reference === o.id);
        assert(!p || p.status !== 'approved', `order ${o.id} pending with an approved payment`);
      }
    }
    // the DMs: one per approved payment, to its buyer, each with one key of what was bought
    const seenKeys = new Map();
    for (const b of buyers) {
      const mine = dms(b.id);
      const paid = approved.filter((a) => a.buyerId === b.id);
      eq(mine.length, paid.length, `DMs to ${b.username} (${paid.length} approved payment(s))`);
      for (const m of mine) {
        const keys = (m.content.match(/KEY-[a-z0-9]+-\d+-[a-z0-9]+/g) || []);
        eq(keys.length, 1, `one key in the DM to ${b.username}: ${m.content}`);
        const k = keys[0];
        assert(!seenKeys.has(k), `key ${k} in two DMs (${seenKeys.get(k)} and ${b.username})`);
        seenKeys.set(k, b.username);
        assert(paid.some((a) => a.slot === st.keyOwner.get(k)), `${b.username} got a key of what they bought (${k})`);
      }
    }
    eq(seenKeys.size, approved.length, 'one key delivered per approved payment');
    // the wallet from the portal
    const wallet = await (await api(w.d, st.s, 'GET', '/api/wallet')).json();
    const fee = (t) => Math.min(t, Math.floor(t * FEE_PERCENT / 100));
    const totals = approved.map((a) => byId.get(a.orderId).totalCents);
    eq(wallet.balanceCents, totals.reduce((x, t) => x + t - fee(t), 0), 'the balance is the sales less the fees');

    eq((await w.d.stop()).code, 0);
    // A new process cannot know that the killed one had just emptied a rate-limit bucket:
    // its first request on that bucket (typically the product post edit its outbox resumes
    // at once) meets Remaining 0 that the fake told the previous process. Discord would
    // answer 429 and nothing more; the daemon learns the bucket from it. Excused: at most
    // one such request per bucket (method, route, channel) per restart, within 3 s of it.
    const excused = new Set(), seen = new Set();
    for (const v of w.fake.violations) {
      if (v.kind !== 'rate-limit-ignored' || !v.path) continue;
      const i = restarts.findLastIndex((t) => t <= v.at);
      const key = `${i} ${v.method} ${v.path.replace(/^(\/channels\/\d+).*$/, '$1')}`;
      if (i < 0 || v.at - restarts[i] > 3000 || seen.has(key)) continue;
      seen.add(key);
      excused.add(v);
    }
    w.fake.takeViolations((v) => excused.has(v));
    w.fake.assertNoViolations();
    w.mp.assertNoViolations();

    // ---- the data files after a clean stop ----
    const fOrders = read(w.dir, 'orders.json').orders;
    const fStock = read(w.dir, 'instances', st.inst.id, 'stock.json').stock;
    const fWallet = Object.values(read(w.dir, 'portal.json').walletTransactions);
    const fBox = read(w.dir, 'deliveries.json');
    const delivered = Object.values(fOrders).filter((o) => o.status === 'delivered');
    eq(delivered.length, approved.length, 'delivered orders in orders.json');
    for (const o of Object.values(fOrders)) {
      if (['paid', 'waiting_stock', 'failed'].includes(o.status)) assert(false, `order ${o.id} left ${o.status}`);
      if (o.paymentId && approvedIds.has(o.paymentId)) eq(o.status, 'delivered', `order ${o.id}`);
      if (o.status === 'delivered') assert(approvedIds.has(o.paymentId), `delivered order ${o.id} has an approved payment`);
    }
    const soldBy = new Map(); // stock id -> order id
    for (const o of delivered) {
      const qty = o.items.reduce((x, i) => x + i.quantity, 0);
      eq(o.stockIds.length, qty, `order ${o.id}'s keys`);
      for (const sid of o.stockIds) {
        assert(!soldBy.has(sid), `stock ${sid} in orders ${soldBy.get(sid)} and ${o.id}`);
        soldBy.set(sid, o.id);
        const s = fStock[sid];
        eq(s?.status, 'sold', `stock ${sid} of order ${o.id}`);
        eq(s.orderId, o.id, `stock ${sid}'s order`);
      }
    }
    const sold = Object.entries(fStock).filter(([, s]) => s.status === 'sold');
    for (const [sid, s] of sold) assert(soldBy.get(sid) === s.orderId, `stock ${sid} sold without a delivered order holding it`);
    eq(sold.length, approved.length, 'keys sold');
    const sales = fWallet.filter((e) => e.id.startsWith('sale-'));
    const fees = fWallet.filter((e) => e.id.startsWith('fee-'));
    eq(sales.length, delivered.length, 'one sale entry per delivered order');
    eq(fees.length, delivered.length, 'one fee entry per delivered order');
    eq(fWallet.length, sales.length + fees.length, 'no other wallet entries');
    for (const e of sales) eq(e.amountCents, fOrders[e.orderId]?.totalCents, `${e.id}`);
    for (const e of fees) eq(e.amountCents, -fee(fOrders[e.orderId].totalCents), `${e.id}`);
    eq(sales.reduce((x, e) => x + e.amountCents, 0), delivered.reduce((x, o) => x + o.totalCents, 0), 'sales = orders');
    eq(fWallet.reduce((x, e) => x + e.amountCents, 0), wallet.balanceCents, 'the file sums to the balance');
    const box = Object.values(fBox.outbox);
    // deliveries and notices are all done; a product post edit may still wait on its backoff
    // (a 429 from the bucket a killed run emptied) when the daemon is stopped: cosmetic, and
    // the next start finishes it
    const notDone = box.filter((e) => e.status !== 'done' && e.type !== 'post');
    eq(notDone.map((e) => `${e.id}:${e.status}`), [], 'every DM and notice is done');
    for (const e of box.filter((x) => x.type === 'post')) assert(e.status === 'done' || e.status === 'pending', `post entry ${e.id}: ${e.status}`);
    eq(box.filter((e) => e.type === 'dm').length, delivered.length, 'one dm entry per delivered order');
    eq(Object.keys(fBox.deliveries).sort(), delivered.map((o) => o.id).sort(), 'one delivery record per order');

    const bySlot = Object.fromEntries(st.slots.map((sl) => [sl.name, approved.filter((a) => a.slot === sl).length]));
    console.log(`#   ${approved.length} approved of ${PURCHASES} purchases (${JSON.stringify(bySlot)}), ` +
      `${stats.restarts} kills, ${stats.ixRetries} clicks retried, ${stats.cancels} carts cancelled, ` +
      `${stats.soldOutSwitch} sold-out switches, ${stats.gaveUp} given up; quiescent at ${daemonSecs} s; ` +
      `${excused.size} first request(s) after a restart on a bucket the killed run had emptied`);
  } catch (e) {
    for (const v of w.fake.violations) {
      const after = restarts.filter((t) => t <= v.at).pop();
      note(`violation ${v.kind} ${v.message.slice(0, 60)}: ${after ? v.at - after : '-'} ms after the last restart`);
    }
    console.log(log.map((l) => `#   ${l}`).join('\n'));
    console.log(`#   ${JSON.stringify(stats)}`);
    throw e;
  } finally {
    stopChaos = true;
    await chaos.catch(() => {});
    if (!w.d.exited) await w.d.stop().catch(() => {});
    await w.fake.close();
    await w.mp.close();
  }
}, { timeout: 150000 });
