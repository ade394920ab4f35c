// The "Cupons" tab: the coupon list and one coupon's form (…/coupons/<id> or /new): code,
// percent or fixed discount, product scope, limits, validity window, active; delete.
import { t } from '/shared/i18n.js';
import { get, post, patch, del } from '/shared/api.js';
import { h, field, notice, busy, showError } from './dom.js';
import {
  money, centsToInput, parseMoney, when, toLocalInput, fromLocalInput, table, confirmDialog,
  checkbox, options, yesNo, loading, empty, apiBase, appBase,
} from './ui.js';

const CODE = /^[A-Z0-9_-]{3,32}$/;
let flash = null;

export function renderCoupons(inst, ctx) {
  const root = h('div', { 'data-tab': 'coupons' }, loading());
  // There is no single-coupon GET: the page reads the list (at most 500) and the products
  // (for the scope) either way.
  Promise.all([get(`${apiBase(inst.id)}/coupons`), get(`${apiBase(inst.id)}/products`)]).then(([{ coupons }, { products }]) => {
    if (!ctx.sub) { root.replaceChildren(couponList(inst, coupons, products)); return; }
    const c = ctx.sub === 'new' ? null : coupons.find((x) => x.id === ctx.sub);
    root.replaceChildren(h('a', { href: `${appBase(inst.id)}/coupons`, 'data-link': true, class: 'back' }, t('coupon.back')),
      ctx.sub !== 'new' && !c ? h('p', { class: 'notice err' }, t('coupon.not_found')) : couponForm(inst, ctx, c, products));
  }, (e) => root.replaceChildren(h('p', { class: 'notice err' }, e.message)));
  return root;
}

export function discountText(c) {
  return c.type === 'percent' ? `${c.value}%` : money(c.value);
}

function scopeText(c, products) {
  if (!c.productIds?.length) return t('coupon.all_products');
  const names = c.productIds.map((id) => products.find((p) => p.id === id)?.name).filter(Boolean);
  return names.length <= 2 ? names.join(', ') : t('coupon.n_products', { n: c.productIds.length });
}

function usesText(c) {
  const total = c.maxUses ? `${c.uses ?? 0} / ${c.maxUses}` : t('coupon.uses_nolimit', { n: c.uses ?? 0 });
  return c.maxUsesPerBuyer ? [total, h('br'), h('span', { class: 'hint' }, t('coupon.per_buyer_short', { n: c.maxUsesPerBuyer }))] : total;
}

function validityText(c) {
  if (!c.validFrom && !c.validUntil) return t('coupon.always');
  const parts = [];
  if (c.validFrom) parts.push(t('coupon.from_date', { when: when(c.validFrom) }));
  if (c.validUntil) parts.push(t('coupon.until_date', { when: when(c.validUntil) }));
  return parts.join(' ');
}

function couponList(inst, coupons, products) {
  const base = appBase(inst.id);
  const note = notice();
  if (flash) { note.show(flash, 'ok'); flash = null; }
  const now = Date.now();
  return h('section', { class: 'card' },
    h('div', { class: 'card-head' }, h('h2', {}, t('tab.coupons')),
      h('a', { class: 'button', href: `${base}/coupons/new`, 'data-link': true }, t('coupon.new'))),
    note,
    coupons.length ? table([
      { label: t('coupon.code'), cell: (c) => h('a', { href: `${base}/coupons/${encodeURIComponent(c.id)}`, 'data-link': true }, h('code', {}, c.code)) },
      { label: t('coupon.discount'), cell: discountText },
      { label: t('coupon.scope'), cell: (c) => scopeText(c, products) },
      { label: t('coupon.uses'), cell: usesText },
      { label: t('coupon.validity'), cell: validityText },
      { label: t('coupon.active'), cell: (c) => (c.active && c.validUntil && c.validUntil < now
        ? h('span', { class: 'badge off' }, t('coupon.expired'))
        : yesNo(c.active, t('ui.yes'), t('ui.no'))) },
    ], coupons, { caption: t('tab.coupons'), rowAttrs: (c) => ({ 'data-id': c.id }) }) : empty(t('coupon.empty')));
}

function couponForm(inst, ctx, c, products) {
  const api = apiBase(inst.id);
  const v = c || { code: '', type: 'percent', value: null, productIds: [], maxUses: null, maxUsesPerBuyer: null, validFrom: null, validUntil: null, active: true };
  const limit = (id, label, value) => field({ id, label, type: 'number', value: value ? String(value) : '', hint: t('coupon.limit_hint'), attrs: { min: '1', max: '1000000', step: '1' } });
  const f = {
    code: field({ id: 'coupon-code', label: t('coupon.code'), value: v.code, hint: t('coupon.code_hint'), attrs: { maxlength: '32', autocomplete: 'off', spellcheck: 'false', class: 'upper' } }),
    type: field({ id: 'coupon-type', label: t('coupon.type'), type: 'select' }),
    value: field({ id: 'coupon-value', label: '', attrs: { inputmode: 'decimal', autocomplete: 'off' } }),
    maxUses: limit('coupon-max', t('coupon.max_uses'), v.maxUses),
    maxUsesPerBuyer: limit('coupon-max-buyer', t('coupon.max_per_buyer'), v.maxUsesPerBuyer),
    validFrom: field({ id: 'coupon-from', label: t('coupon.valid_from'), type: 'datetime-local', value: toLocalInput(v.validFrom) }),
    validUntil: field({ id: 'coupon-until', label: t('coupon.valid_until'), type: 'datetime-local', value: toLocalInput(v.validUntil) }),
  };
  options(f.type.input, [['percent', t('coupon.type_percent')], ['fixed', t('coupon.type_fixed')]], v.type);
  const valueLabel = f.value.wrap.querySelector('label');
  const syncType = () => {
    const pct = f.type.input.value === 'percent';
    valueLabel.textContent = pct ? t('coupon.value_percent') : t('coupon.value_fixed');
    f.value.input.placeholder = pct ? '10' : '5,00';
  };
  f.type.input.addEventListener('change', () => { f.value.input.value = ''; syncType(); });
  syncType();
  if (v.value != null) f.value.input.value = v.type === 'percent' ? String(v.value) : centsToInput(v.value);

  // Product scope: checkboxes read better than <select multiple> on a phone.
  const boxes = products.map((p) => checkbox({ id: `coupon-p-${p.id}`, label: p.name, checked: v.productIds?.includes(p.id) }));
  const scopeErr = h('p', { class: 'field-error', hidden: true, role: 'alert' });
  f.productIds = { input: boxes[0]?.input || h('input'), setError: (m) => { scopeErr.textContent = m || ''; scopeErr.hidden = !m; } };
  const scope = h('fieldset', { class: 'scope' }, h('legend', {}, t('coupon.scope')),
    h('p', { class: 'hint' }, t('coupon.scope_hint')),
    products.length ? h('div', { class: 'checks' }, boxes.map((b) => b.wrap)) : h('p', { class: 'muted' }, t('coupon.no_products')),
    scopeErr);
  const active = checkbox({ id: 'coupon-active', label: t('coupon.active_label'), checked: v.active });
  f.active = active;
  const save = h('button', { type: 'submit' }, c ? t('ui.save') : t('coupon.create'));
  const note = notice();

  function read() {
    let bad = null;
    const fail = (k, msg) => { f[k].setError(msg); bad ??= f[k]; };
    const body = { code: f.code.input.value.trim().toUpperCase(), type: f.type.input.value };
    if (!CODE.test(body.code)) fail('code', t('coupon.code_bad'));
    if (body.type === 'percent') {
      const n = Number(f.value.input.value.trim());
      if (!/^\d+$/.test(f.value.input.value.trim()) || n < 1 || n > 100) fail('value', t('coupon.percent_bad'));
      body.value = n;
    } else {
      body.value = parseMoney(f.value.input.value);
      if (!body.value || body.value > 100000000) fail('value', t('ui.money_bad'));
    }
    for (const k of ['maxUses', 'maxUsesPerBuyer']) {
      const s = f[k].input.value.trim();
      const n = Number(s);
      if (s && (!Number.isInteger(n) || n < 1 || n > 1000000)) fail(k, t('coupon.limit_bad'));
      body[k] = s ? n : null;
    }
    body.validFrom = fromLocalInput(f.validFrom.input.value);
    body.validUntil = fromLocalInput(f.validUntil.input.value);
    if (body.validFrom && body.validUntil && body.validUntil <= body.validFrom) fail('validUntil', t('coupon.window_bad'));
    body.productIds = products.filter((p, i) => boxes[i].input.checked).map((p) => p.id);
    body.active = active.input.checked;
    return bad ? (bad.input.focus(), null) : body;
  }

  const form = h('form', { class: 'card', novalidate: true, 'data-section': 'coupon' },
    h('h2', {}, c ? c.code : t('coupon.new')),
    h('div', { class: 'grid2' }, f.code.wrap, f.type.wrap),
    f.value.wrap, scope,
    h('div', { class: 'grid2' }, f.maxUses.wrap, f.maxUsesPerBuyer.wrap, f.validFrom.wrap, f.validUntil.wrap),
    active.wrap, h('div', { class: 'actions' }, save), note);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    note.clear();
    const body = read();
    if (!body) return;
    await busy(save, async () => {
      try {
        if (c) await patch(`${api}/coupons/${encodeURIComponent(c.id)}`, body);
        else await post(`${api}/coupons`, body);
        flash = c ? t('ui.saved') : t('coupon.created');
        ctx.navigate(`${appBase(inst.id)}/coupons`);
      } catch (e) {
        // coupon_window has no field of its own in some answers: it is about the end date.
        if (e.error === 'coupon_window' && !e.field) { f.validUntil.setError(e.message); f.validUntil.input.focus(); } else showError(e, f, note);
      }
    });
  });
  if (!c) return form;

  const remove = h('button', { type: 'button', class: 'danger' }, t('coupon.delete'));
  const delNote = notice();
  remove.addEventListener('click', async () => {
    delNote.clear();
    if (!await confirmDialog(t('coupon.delete_q', { code: c.code }), { ok: t('ui.delete'), danger: true, detail: t('coupon.delete_detail') })) return;
    await busy(remove, async () => {
      try {
        await del(`${api}/coupons/${encodeURIComponent(c.id)}`);
        flash = t('coupon.deleted');
        ctx.navigate(`${appBase(inst.id)}/coupons`);
      } catch (e) { delNote.show(e.message); }
    });
  });
  return h('div', {}, form, h('section', { class: 'card', 'data-section': 'delete' },
    h('h2', {}, t('coupon.delete_title')), h('div', { class: 'actions' }, remove), delNote));
}
