// The "Produtos" tab: the product list, and one product's page (…/products/<id> or /new):
// the product form with its DM template and live preview, its variations, publishing it to a
// Discord channel, and deleting it.
import { t } from '/shared/i18n.js';
import { get, post, patch, del } from '/shared/api.js';
import { h, field, notice, busy, showError } from './dom.js';
import {
  money, centsToInput, parseMoney, when, table, confirmDialog, checkbox, textArea,
  yesNo, loading, empty, apiBase, appBase,
} from './ui.js';

const PLACEHOLDERS = ['produto', 'variacao', 'chave', 'pedido', 'comprador', 'loja'];
const PREVIEW_DELAY_MS = 400;
const SNOWFLAKE = /^\d{1,25}$/;

// A message to show on the next page drawn (a product just created or deleted).
let flash = null;

export function renderProducts(inst, ctx) {
  if (ctx.sub) return productPage(inst, ctx, ctx.sub === 'new' ? null : ctx.sub);
  return productList(inst, ctx);
}

export function stockCell(p) {
  return h('span', { class: 'row' }, String(p.stock?.available ?? 0),
    p.lowStock ? h('span', { class: 'badge warn', 'data-low': '' }, t('prod.low')) : null);
}

function priceText(p) {
  return p.variations?.length ? t('prod.from', { price: money(p.priceCents) }) : money(p.priceCents);
}

function productList(inst, ctx) {
  const base = appBase(inst.id);
  const note = notice();
  if (flash) { note.show(flash, 'ok'); flash = null; }
  const body = h('div', {}, loading());
  const section = h('section', { class: 'card', 'data-tab': 'products' },
    h('div', { class: 'card-head' }, h('h2', {}, t('tab.products')),
      h('a', { class: 'button', href: `${base}/products/new`, 'data-link': true }, t('prod.new'))),
    note, body);
  get(`${apiBase(inst.id)}/products`).then(({ products }) => {
    if (!products.length) { body.replaceChildren(empty(t('prod.empty'))); return; }
    body.replaceChildren(table([
      { label: t('prod.name'), cell: (p) => h('a', { href: `${base}/products/${encodeURIComponent(p.id)}`, 'data-link': true }, p.name) },
      { label: t('prod.price'), cell: priceText },
      { label: t('prod.active'), cell: (p) => yesNo(p.active, t('ui.yes'), t('ui.no')) },
      { label: t('prod.stock'), cell: stockCell },
      { label: t('prod.posted'), cell: (p) => (p.post ? h('span', { class: 'badge ok' }, t('prod.posted_at', { when: when(p.post.postedAt) })) : h('span', { class: 'muted' }, t('prod.not_posted'))) },
    ], products, { caption: t('tab.products'), rowAttrs: (p) => ({ 'data-id': p.id }) }));
  }, (e) => { body.replaceChildren(); note.show(e.message); });
  return section;
}

function productPage(inst, ctx, pid) {
  const wrap = h('div', { 'data-tab': 'products' },
    h('a', { href: `${appBase(inst.id)}/products`, 'data-link': true, class: 'back' }, t('prod.back')));
  if (!pid) {
    wrap.append(productForm(inst, ctx, null));
    return wrap;
  }
  const status = loading();
  wrap.append(status);
  get(`${apiBase(inst.id)}/products/${encodeURIComponent(pid)}`).then((prod) => {
    const page = { prod, listeners: [] };
    // Sections redraw their parts when another section changes the product.
    page.set = (next) => { page.prod = next; page.listeners.forEach((fn) => fn(next)); };
    const note = notice();
    if (flash) { note.show(flash, 'ok'); flash = null; }
    status.replaceWith(note, productForm(inst, ctx, page), variationsSection(inst, page),
      publishSection(inst, page), deleteSection(inst, ctx, page));
  }, (e) => {
    status.replaceWith(h('p', { class: 'notice err' }, e.status === 404 ? t('prod.not_found') : e.message));
  });
  return wrap;
}

// The product's own fields; page is null for a new product.
function productForm(inst, ctx, page) {
  const p = page?.prod || { name: '', description: '', imageUrl: null, priceCents: null, active: true, dmTemplate: null, lowStockThreshold: 5 }; // the API's defaults
  const f = {
    name: field({ id: 'prod-name', label: t('prod.name'), value: p.name, attrs: { maxlength: '100', autocomplete: 'off', required: true } }),
    description: textArea({ id: 'prod-description', label: t('prod.description'), value: p.description || '', attrs: { maxlength: '2000', rows: '3' } }),
    imageUrl: field({ id: 'prod-image', label: t('prod.image'), type: 'url', value: p.imageUrl || '', hint: t('prod.image_hint'), attrs: { maxlength: '500', placeholder: 'https://…', autocomplete: 'off' } }),
    priceCents: field({ id: 'prod-price', label: t('prod.price_reais'), value: centsToInput(p.priceCents), hint: t('prod.price_hint'), attrs: { inputmode: 'decimal', autocomplete: 'off', placeholder: '19,90' } }),
    lowStockThreshold: field({ id: 'prod-low', label: t('prod.low_threshold'), type: 'number', value: String(p.lowStockThreshold ?? 0), hint: t('prod.low_hint'), attrs: { min: '0', max: '100000', step: '1' } }),
    dmTemplate: textArea({ id: 'prod-dm', label: t('prod.dm'), value: p.dmTemplate || '', hint: t('prod.dm_hint'), attrs: { maxlength: '1500', rows: '6', spellcheck: 'false' } }),
  };
  const active = checkbox({ id: 'prod-active', label: t('prod.active_label'), checked: p.active });
  f.active = active;
  const save = h('button', { type: 'submit' }, page ? t('ui.save') : t('prod.create'));
  const note = notice();
  const preview = dmPreview(inst, ctx, page, f.dmTemplate);

  const form = h('form', { class: 'card', novalidate: true, 'data-section': 'product' },
    h('h2', {}, page ? p.name : t('prod.new')),
    f.name.wrap, f.description.wrap, f.imageUrl.wrap,
    h('div', { class: 'grid2' }, f.priceCents.wrap, f.lowStockThreshold.wrap),
    active.wrap,
    h('fieldset', { class: 'dm' }, h('legend', {}, t('prod.dm_title')), f.dmTemplate.wrap, preview.el),
    h('div', { class: 'actions' }, save), note);

  function read() {
    const body = {};
    let bad = null;
    const fail = (k, msg) => { f[k].setError(msg); bad ??= f[k]; };
    body.name = f.name.input.value.trim();
    if (!body.name) fail('name', t('prod.name_required'));
    body.description = f.description.input.value;
    const img = f.imageUrl.input.value.trim();
    if (img && !/^https:\/\/\S+$/i.test(img)) fail('imageUrl', t('prod.image_bad'));
    body.imageUrl = img || null;
    body.priceCents = parseMoney(f.priceCents.input.value);
    if (body.priceCents === null || body.priceCents < 1 || body.priceCents > 100000000) fail('priceCents', t('ui.money_bad'));
    const low = Number(f.lowStockThreshold.input.value || '0');
    if (!Number.isInteger(low) || low < 0 || low > 100000) fail('lowStockThreshold', t('prod.low_bad'));
    body.lowStockThreshold = low;
    body.active = active.input.checked;
    body.dmTemplate = f.dmTemplate.input.value.trim() ? f.dmTemplate.input.value : null;
    return bad ? (bad.input.focus(), null) : body;
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    note.clear();
    const body = read();
    if (!body) return;
    await busy(save, async () => {
      try {
        if (!page) {
          const created = await post(`${apiBase(inst.id)}/products`, body);
          flash = t('prod.created');
          ctx.navigate(`${appBase(inst.id)}/products/${encodeURIComponent(created.id)}`);
          return;
        }
        const next = await patch(`${apiBase(inst.id)}/products/${encodeURIComponent(page.prod.id)}`, body);
        note.show(t('ui.saved'), 'ok');
        form.querySelector('h2').textContent = next.name;
        page.set(next);
      } catch (e) {
        // Template errors belong to the template box whatever field the server names.
        if (e.error === 'bad_template' || e.error === 'template_no_key') { f.dmTemplate.setError(e.message); f.dmTemplate.input.focus(); } else showError(e, f, note);
      }
    });
  });
  return form;
}

// The placeholder buttons (insert at the cursor) and the preview, refreshed while typing.
function dmPreview(inst, ctx, page, tpl) {
  const out = h('pre', { class: 'dm-preview', id: 'dm-preview', 'aria-live': 'polite' });
  const meta = h('p', { class: 'hint', id: 'dm-length' });
  const chips = h('div', { class: 'row chips', role: 'group', 'aria-label': t('prod.dm_placeholders') },
    PLACEHOLDERS.map((k) => h('button', {
      type: 'button', class: 'chip', title: t(`prod.ph.${k}`),
      onclick: () => {
        const el = tpl.input, s = el.selectionStart ?? el.value.length, e = el.selectionEnd ?? s;
        el.setRangeText(`{${k}}`, s, e, 'end');
        el.focus();
        schedule();
      },
    }, `{${k}}`)));
  const legend = h('ul', { class: 'ph-list' },
    PLACEHOLDERS.map((k) => h('li', {}, h('code', {}, `{${k}}`), ' ', t(`prod.ph.${k}`))));
  let timer = null, seq = 0;
  async function refresh() {
    const mine = ++seq;
    const body = {};
    if (tpl.input.value.trim()) body.template = tpl.input.value;
    if (page) body.productId = page.prod.id;
    try {
      const r = await post(`${apiBase(inst.id)}/dm-preview`, body);
      if (mine !== seq) return;
      out.textContent = r.content;
      meta.replaceChildren(t('prod.dm_length', { n: r.length }));
      if (r.tooLong) meta.append(' ', h('span', { class: 'badge err', id: 'dm-too-long' }, t('prod.dm_too_long')));
    } catch (e) {
      if (mine !== seq) return;
      if (e.status === 400) tpl.setError(e.message);
      else meta.textContent = e.message;
    }
  }
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, PREVIEW_DELAY_MS);
  }
  tpl.input.addEventListener('input', schedule);
  ctx.onCleanup(() => { clearTimeout(timer); seq++; });
  refresh();
  return { el: h('div', {}, chips, legend, h('h3', {}, t('prod.dm_preview')), out, meta) };
}

function variationsSection(inst, page) {
  const url = (vid) => `${apiBase(inst.id)}/products/${encodeURIComponent(page.prod.id)}/variations${vid ? `/${encodeURIComponent(vid)}` : ''}`;
  const note = notice();
  const list = h('div', { class: 'var-list' });

  function row(v) {
    const name = field({ id: `var-${v.id}-name`, label: t('var.name'), value: v.name, attrs: { maxlength: '80', autocomplete: 'off' } });
    const price = field({ id: `var-${v.id}-price`, label: t('var.price'), value: centsToInput(v.priceCents), attrs: { inputmode: 'decimal', autocomplete: 'off' } });
    const active = checkbox({ id: `var-${v.id}-active`, label: t('var.active'), checked: v.active });
    const save = h('button', { type: 'submit', class: 'secondary' }, t('ui.save'));
    const remove = h('button', { type: 'button', class: 'danger' }, t('ui.delete'));
    const form = h('form', { class: 'var-row', novalidate: true, 'data-id': v.id },
      h('div', { class: 'var-fields' }, name.wrap, price.wrap, active.wrap),
      h('p', { class: 'hint' }, t('var.stock', { n: v.stock?.available ?? 0 }),
        v.lowStock ? h('span', { class: 'badge warn' }, ' ', t('prod.low')) : null),
      h('div', { class: 'actions' }, save, remove));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      note.clear();
      const body = { name: name.input.value.trim(), priceCents: parseMoney(price.input.value), active: active.input.checked };
      if (!body.name) { name.setError(t('var.name_required')); name.input.focus(); return; }
      if (!body.priceCents || body.priceCents > 100000000) { price.setError(t('ui.money_bad')); price.input.focus(); return; }
      await busy([save, remove], async () => {
        try { page.set(await patch(url(v.id), body)); note.show(t('ui.saved'), 'ok'); } catch (e) { showError(e, { name, priceCents: price }, note); }
      });
    });
    remove.addEventListener('click', async () => {
      note.clear();
      if (!await confirmDialog(t('var.delete_q', { name: v.name }), { ok: t('ui.delete'), danger: true })) return;
      await busy([save, remove], async () => {
        try { page.set(await del(url(v.id))); note.show(t('var.deleted'), 'ok'); } catch (e) { note.show(e.message); }
      });
    });
    return form;
  }

  const draw = (prod) => {
    list.replaceChildren(...(prod.variations?.length ? prod.variations.map(row) : [h('p', { class: 'muted' }, t('var.none'))]));
  };
  page.listeners.push(draw);
  draw(page.prod);

  const name = field({ id: 'var-new-name', label: t('var.new_name'), attrs: { maxlength: '80', autocomplete: 'off' } });
  const price = field({ id: 'var-new-price', label: t('var.new_price'), attrs: { inputmode: 'decimal', autocomplete: 'off', placeholder: '19,90' } });
  const add = h('button', { type: 'submit' }, t('var.add'));
  const addForm = h('form', { class: 'var-add', novalidate: true },
    h('h3', {}, t('var.add_title')), h('div', { class: 'grid2' }, name.wrap, price.wrap), h('div', { class: 'actions' }, add));
  addForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    note.clear();
    const body = { name: name.input.value.trim(), priceCents: parseMoney(price.input.value), active: true };
    let bad = false;
    if (!body.name) { name.setError(t('var.name_required')); bad = true; }
    if (!body.priceCents || body.priceCents > 100000000) { price.setError(t('ui.money_bad')); bad = true; }
    if (bad) return;
    await busy(add, async () => {
      try {
        page.set(await post(url(), body));
        name.input.value = ''; price.input.value = '';
        note.show(t('var.added'), 'ok');
      } catch (e) { showError(e, { name, priceCents: price }, note); }
    });
  });

  return h('section', { class: 'card', 'data-section': 'variations' },
    h('h2', {}, t('var.title')), h('p', { class: 'hint' }, t('var.help')), list, addForm, note);
}

function publishSection(inst, page) {
  const storeChannel = inst.settings?.storeChannelId || '';
  const channel = field({
    id: 'post-channel', label: t('post.channel'), value: page.prod.post?.channelId || storeChannel,
    hint: storeChannel ? t('post.channel_hint', { id: storeChannel }) : t('post.channel_none'),
    attrs: { inputmode: 'numeric', autocomplete: 'off' },
  });
  const go = h('button', { type: 'submit' });
  const where = h('p', { class: 'posted', id: 'post-where' });
  const note = notice();
  const draw = (prod) => {
    go.textContent = prod.post ? t('post.repost') : t('post.publish');
    if (!prod.post) { where.textContent = t('prod.not_posted'); return; }
    const link = inst.guildId
      ? h('a', { href: `https://discord.com/channels/${inst.guildId}/${prod.post.channelId}/${prod.post.messageId}`, target: '_blank', rel: 'noopener noreferrer' }, t('post.open'))
      : null;
    where.replaceChildren(t('post.where', { channel: prod.post.channelId, when: when(prod.post.postedAt) }), ' ', link || '');
  };
  page.listeners.push(draw);
  draw(page.prod);
  const form = h('form', { class: 'card', novalidate: true, 'data-section': 'publish' },
    h('h2', {}, t('post.title')), h('p', { class: 'hint' }, t('post.help')), where,
    channel.wrap, h('div', { class: 'actions' }, go), note);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    note.clear();
    const c = channel.input.value.trim();
    if (c && !SNOWFLAKE.test(c)) { channel.setError(t('set.snowflake_bad')); channel.input.focus(); return; }
    await busy(go, async () => {
      try {
        const next = await post(`${apiBase(inst.id)}/products/${encodeURIComponent(page.prod.id)}/post`, c ? { channelId: c } : {});
        page.set(next);
        note.show(t('post.done'), 'ok');
      } catch (e) { showError(e, { channelId: channel }, note); }
    });
  });
  return form;
}

function deleteSection(inst, ctx, page) {
  const go = h('button', { type: 'button', class: 'danger' }, t('prod.delete'));
  const note = notice();
  go.addEventListener('click', async () => {
    note.clear();
    if (!await confirmDialog(t('prod.delete_q', { name: page.prod.name }), { ok: t('ui.delete'), danger: true, detail: t('prod.delete_detail') })) return;
    await busy(go, async () => {
      try {
        await del(`${apiBase(inst.id)}/products/${encodeURIComponent(page.prod.id)}`);
        flash = t('prod.deleted');
        ctx.navigate(`${appBase(inst.id)}/products`);
      } catch (e) { note.show(e.message); }
    });
  });
  return h('section', { class: 'card', 'data-section': 'delete' },
    h('h2', {}, t('prod.delete_title')), h('p', { class: 'hint' }, t('prod.delete_help')),
    h('div', { class: 'actions' }, go), note);
}
