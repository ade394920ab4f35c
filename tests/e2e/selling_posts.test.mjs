// The product posts follow the catalog: a price change, keys uploaded or removed, a variation
// repriced, the product deactivated or deleted each edit the post in place in the fake Discord
// (the same message, no new one), through the outbox entry post-<productId>.
import { test, assert, eq, until } from './lib/harness.mjs';
import { api } from './lib/portal_client.mjs';
import { world, store } from './lib/selling.mjs';

const field = (m, name) => m?.embeds?.[0]?.fields?.find((f) => f.name === name)?.value;
const live = (w, ch) => w.fake.messages(ch).filter((m) => !m._deleted);

test('a posted product\'s post is edited in place when its price, stock or state changes', async () => {
  const w = await world();
  try {
    const st = await store(w);
    const P = `/api/instances/${st.inst.id}`;
    const post = (pid) => w.fake.messages(st.general).find((m) => m.id === st.posts[pid]);
    const before = live(w, st.general).length;
    const shows = (pid, what, fn) => until(() => fn(post(pid)), { what, timeout: 10000 });
    await shows(st.chave.id, 'the post as posted', (m) => field(m, 'Estoque') === '3 disponíveis');

    // price
    eq((await api(w.d, st.s, 'PATCH', `${P}/products/${st.chave.id}`, { priceCents: 700 })).status, 200);
    await shows(st.chave.id, 'the new price on the post', (m) => field(m, 'Preço') === 'R$ 7,00');

    // two keys uploaded
    let r = await api(w.d, st.s, 'POST', `${P}/stock`, { productId: st.chave.id, text: 'NOVA-1\nNOVA-2' });
    eq(r.status, 200);
    await shows(st.chave.id, 'the upload on the post', (m) => field(m, 'Estoque') === '5 disponíveis');

    // one key removed in bulk, one by its own route
    const items = (await (await api(w.d, st.s, 'GET', `${P}/stock?productId=${st.chave.id}`)).json()).items;
    const avail = items.filter((i) => i.status === 'available').map((i) => i.id);
    eq(avail.length, 5);
    r = await api(w.d, st.s, 'POST', `${P}/stock/remove`, { ids: [avail[0]] });
    eq((await r.json()).removed, 1);
    await shows(st.chave.id, 'the bulk removal on the post', (m) => field(m, 'Estoque') === '4 disponíveis');
    eq((await api(w.d, st.s, 'DELETE', `${P}/stock/${avail[1]}`)).status, 204);
    await shows(st.chave.id, 'the removal on the post', (m) => field(m, 'Estoque') === '3 disponíveis');
    eq(field(post(st.chave.id), 'Preço'), 'R$ 7,00', 'the price stays');

    // a variation repriced: the Variações field and the select follow
    r = await api(w.d, st.s, 'PATCH', `${P}/products/${st.conta.id}/variations/${st.anual.id}`, { priceCents: 5990 });
    eq(r.status, 200);
    await shows(st.conta.id, 'the variation price on the post', (m) => (field(m, 'Variações') || '').includes('R$ 59,90'));

    // deactivated: "Indisponível", the button disabled; active again: back on sale
    eq((await api(w.d, st.s, 'PATCH', `${P}/products/${st.chave.id}`, { active: false })).status, 200);
    await shows(st.chave.id, 'the post unavailable', (m) => field(m, 'Estoque') === 'Indisponível');
    const button = (m) => m.components.flatMap((row) => row.components).find((c) => c.custom_id === `astra:buy:${st.chave.id}`);
    eq(button(post(st.chave.id)).disabled, true);
    eq((await api(w.d, st.s, 'PATCH', `${P}/products/${st.chave.id}`, { active: true })).status, 200);
    await shows(st.chave.id, 'the post on sale again', (m) => field(m, 'Estoque') === '3 disponíveis');
    assert(!button(post(st.chave.id)).disabled, 'the button enabled again');

    // a product without keys, posted, then deleted: its post says so
    r = await api(w.d, st.s, 'POST', `${P}/products`, { name: 'Avulso', priceCents: 100 });
    const avulso = await r.json();
    r = await api(w.d, st.s, 'POST', `${P}/products/${avulso.id}/post`);
    eq(r.status, 200);
    st.posts[avulso.id] = (await r.json()).post.messageId;
    eq((await api(w.d, st.s, 'DELETE', `${P}/products/${avulso.id}`)).status, 204);
    await shows(avulso.id, 'the deleted product\'s post', (m) => field(m, 'Estoque') === 'Indisponível');

    // every change was an edit: only the new product's post is a new message
    eq(live(w, st.general).length, before + 1, 'no new message but the new post');
    w.fake.assertNoViolations();
  } finally {
    eq((await w.d.stop()).code, 0);
    await w.fake.close();
    await w.mp.close();
  }
}, { timeout: 90000 });
