// The "Estoque" tab: pick a product (and variation), add keys by pasting or uploading a
// .txt/.csv file (sent in chunks with a progress bar, then one report for the whole file),
// and list the keys by status with reveal (audited) and remove.
import { t, has } from '/shared/i18n.js';
import { get, post, del } from '/shared/api.js';
import { h, notice, busy } from './dom.js';
import { when, table, pager, confirmDialog, textArea, options, loading, empty, apiBase, appBase, qs, tn } from './ui.js';

// The API takes at most 5000 keys and 1.25 MiB per request; 1000 lines and ~1 MiB per chunk
// stay under both and give a progress bar that moves.
const CHUNK_LINES = 1000;
const CHUNK_BYTES = 1000 * 1000;
const MAX_FILE = 20 * 1024 * 1024;
const REPORT_ROWS = 200; // lines listed in the report; the rest is counted
const STATUSES = ['available', 'reserved', 'sold'];

// Splits text into request-sized chunks: [{start (0-based line of its first line), lines}].
// A CSV value with a newline inside quotes would be cut in two; keys do not contain newlines.
export function chunkLines(text) {
  const lines = text.split(/\r\n|\n|\r/);
  while (lines.length && !lines[lines.length - 1].trim()) lines.pop();
  const enc = new TextEncoder();
  const chunks = [];
  let cur = null, bytes = 0;
  lines.forEach((line, i) => {
    const b = enc.encode(line).length + 1;
    if (!cur || cur.lines.length >= CHUNK_LINES || bytes + b > CHUNK_BYTES) {
      cur = { start: i, lines: [] };
      chunks.push(cur);
      bytes = 0;
    }
    cur.lines.push(line);
    bytes += b;
  });
  return { total: lines.length, chunks: chunks.filter((c) => c.lines.some((l) => l.trim())) };
}

export function renderStock(inst, ctx) {
  const api = apiBase(inst.id);
  const root = h('div', { 'data-tab': 'stock' }, loading());
  get(`${api}/products`).then(({ products }) => {
    if (!products.length) {
      root.replaceChildren(h('section', { class: 'card' }, empty(t('stock.no_products')),
        h('p', { class: 'empty' }, h('a', { class: 'button', href: `${appBase(inst.id)}/products/new`, 'data-link': true }, t('prod.new')))));
      return;
    }
    root.replaceChildren(...stockPage(inst, ctx, products));
  }, (e) => root.replaceChildren(h('p', { class: 'notice err' }, e.message)));
  return root;
}

function stockPage(inst, ctx, products) {
  const productSel = h('select', { id: 'stock-product', name: 'stock-product' });
  const variationSel = h('select', { id: 'stock-variation', name: 'stock-variation' });
  const variationWrap = h('div', { class: 'field' }, h('label', { for: 'stock-variation' }, t('stock.variation')), variationSel);
  options(productSel, products.map((p) => [p.id, p.name]), products[0].id);
  const sel = { product: products[0], variationId: null };

  function pickProduct() {
    sel.product = products.find((p) => p.id === productSel.value) || products[0];
    const vs = sel.product.variations || [];
    variationWrap.hidden = !vs.length;
    options(variationSel, vs.map((v) => [v.id, v.active ? v.name : `${v.name} (${t('ui.inactive')})`]), vs[0]?.id);
    sel.variationId = vs[0]?.id || null;
  }
  pickProduct();
  productSel.addEventListener('change', () => { pickProduct(); list.reload(); });
  variationSel.addEventListener('change', () => { sel.variationId = variationSel.value; list.reload(); });

  const picker = h('section', { class: 'card', 'data-section': 'pick' },
    h('div', { class: 'grid2' },
      h('div', { class: 'field' }, h('label', { for: 'stock-product' }, t('stock.product')), productSel),
      variationWrap));

  const list = keyList(inst, sel);
  return [picker, addSection(inst, sel, () => list.reload()), list.el];
}

function addSection(inst, sel, onAdded) {
  const api = apiBase(inst.id);
  const paste = textArea({ id: 'stock-paste', label: t('stock.paste'), hint: t('stock.paste_hint'), attrs: { rows: '5', spellcheck: 'false', autocomplete: 'off' } });
  const addPaste = h('button', { type: 'button' }, t('stock.add'));
  const file = h('input', { id: 'stock-file', name: 'stock-file', type: 'file', accept: '.txt,.csv,text/plain,text/csv' });
  const send = h('button', { type: 'button' }, t('stock.upload'));
  const progress = h('progress', { id: 'stock-progress', max: '1', value: '0' });
  const progressText = h('p', { class: 'hint', 'aria-live': 'polite' });
  const progressWrap = h('div', { class: 'progress', hidden: true }, h('label', { for: 'stock-progress' }, t('stock.progress')), progress, progressText);
  const report = h('div', { class: 'report', id: 'stock-report', 'aria-live': 'polite' });
  const note = notice();
  const buttons = [addPaste, send];

  async function upload(text, format) {
    note.clear();
    report.replaceChildren();
    const { total, chunks } = chunkLines(text);
    if (!chunks.length) { note.show(t('stock.nothing')); return; }
    progress.max = total;
    progress.value = 0;
    progressWrap.hidden = false;
    progressText.textContent = t('stock.sending', { done: 0, total });
    const sum = { added: 0, duplicates: [], invalid: [] };
    let failed = null, done = 0;
    for (const c of chunks) {
      const body = { productId: sel.product.id, format, text: c.lines.join('\n') };
      if (sel.variationId) body.variationId = sel.variationId;
      try {
        const r = await post(`${api}/stock`, body);
        sum.added += r.added;
        // Line numbers come back per chunk; the seller reads them against the whole file.
        for (const d of r.duplicates || []) sum.duplicates.push({ ...d, line: d.line + c.start });
        for (const d of r.invalid || []) sum.invalid.push({ ...d, line: d.line + c.start });
      } catch (e) {
        failed = { e, from: c.start + 1 };
        break;
      }
      done = c.start + c.lines.length;
      progress.value = done;
      progressText.textContent = t('stock.sending', { done, total });
    }
    if (!failed) { progress.value = total; progressText.textContent = t('stock.sent', { total }); }
    report.replaceChildren(...reportView(sum));
    if (failed) note.show(t('stock.stopped', { line: failed.from, error: failed.e.message }));
    if (sum.added) onAdded();
    return !failed;
  }

  addPaste.addEventListener('click', () => busy(buttons, async () => {
    if (!paste.input.value.trim()) { paste.setError(t('stock.paste_required')); paste.input.focus(); return; }
    if (await upload(paste.input.value, 'lines')) paste.input.value = '';
  }));
  send.addEventListener('click', () => busy(buttons, async () => {
    const f = file.files?.[0];
    if (!f) { note.show(t('stock.file_required')); file.focus(); return; }
    if (f.size > MAX_FILE) { note.show(t('stock.file_big')); return; }
    const text = await f.text();
    await upload(text, /\.csv$/i.test(f.name) ? 'csv' : 'lines');
  }));

  return h('section', { class: 'card', 'data-section': 'add' },
    h('h2', {}, t('stock.add_title')),
    paste.wrap, h('div', { class: 'actions' }, addPaste),
    h('div', { class: 'field' }, h('label', { for: 'stock-file' }, t('stock.file')), file,
      h('p', { class: 'hint' }, t('stock.file_hint'))),
    h('div', { class: 'actions' }, send),
    progressWrap, note, report);
}

function reportView(sum) {
  const reason = (r) => (has(`stock.reason.${r}`) ? t(`stock.reason.${r}`) : r);
  const out = [h('p', { class: 'notice ok', id: 'stock-added' }, tn('stock.added', sum.added))];
  const part = (title, rows, text, id) => {
    if (!rows.length) return;
    rows.sort((a, b) => a.line - b.line);
    const shown = rows.slice(0, REPORT_ROWS);
    out.push(h('h3', { id }, t(title, { n: rows.length })),
      h('ul', { class: 'report-lines' }, shown.map((d) => h('li', { 'data-line': String(d.line) }, t('stock.line', { n: d.line }), ' ', text(d)))),
      rows.length > shown.length ? h('p', { class: 'hint' }, t('stock.more_lines', { n: rows.length - shown.length })) : null);
  };
  part('stock.duplicates', sum.duplicates, (d) => [h('code', {}, d.masked || ''), ` — ${reason(d.reason)}`], 'stock-dups');
  part('stock.invalid', sum.invalid, (d) => reason(d.reason), 'stock-invalid');
  return out.filter(Boolean);
}

function keyList(inst, sel) {
  const api = apiBase(inst.id);
  let status = 'available';
  const tabs = h('div', { class: 'row seg', role: 'group', 'aria-label': t('stock.status') });
  const counts = { available: 0, reserved: 0, sold: 0 };
  const drawTabs = () => tabs.replaceChildren(...STATUSES.map((s) => h('button', {
    type: 'button', class: s === status ? '' : 'secondary', 'aria-pressed': String(s === status), 'data-status': s,
    onclick: () => { status = s; drawTabs(); p.reload(); },
  }, t(`stock.st.${s}`, { n: counts[s] }))));
  drawTabs();

  const body = h('div', {}, loading());
  const note = notice();
  const removeSel = h('button', { type: 'button', class: 'danger', disabled: true, 'data-action': 'remove-selected' }, t('stock.remove_selected', { n: 0 }));
  const selected = new Set();
  const syncSel = () => {
    removeSel.textContent = t('stock.remove_selected', { n: selected.size });
    removeSel.disabled = !selected.size;
  };
  // "Select all" covers the rows loaded so far (the checkboxes carry the key id).
  const all = h('input', { type: 'checkbox', id: 'stock-select-all', class: 'check' });
  const allWrap = h('div', { class: 'check-field' }, all, h('label', { for: 'stock-select-all' }, t('stock.select_all')));
  all.addEventListener('change', () => {
    for (const box of body.querySelectorAll('input[data-key-id]')) {
      box.checked = all.checked;
      if (all.checked) selected.add(box.dataset.keyId); else selected.delete(box.dataset.keyId);
    }
    syncSel();
  });
  const varName = (id) => sel.product.variations?.find((v) => v.id === id)?.name || '';
  let tbody = null;

  const cols = () => [
    ...(status === 'available' ? [{ label: t('stock.select'), cls: 'narrow', cell: (it) => h('input', {
      type: 'checkbox', 'aria-label': t('stock.select_key', { key: it.masked }), 'data-key-id': it.id,
      onchange: (ev) => { if (ev.target.checked) selected.add(it.id); else selected.delete(it.id); syncSel(); },
    }) }] : []),
    { label: t('stock.key'), cell: (it) => h('code', { class: 'key' }, it.masked) },
    ...(sel.product.variations?.length ? [{ label: t('stock.variation'), cell: (it) => varName(it.variationId) }] : []),
    { label: status === 'sold' ? t('stock.sold_at') : t('stock.added_at'), cell: (it) => status === 'sold' && it.flag
      // a refunded or charged-back sale: the buyer kept the key, the seller may revoke it
      ? h('span', {}, when(it.soldAt), ' ', h('span', { class: 'badge warn', 'data-flag': it.flag, title: t('stock.flag_hint') }, t(`stock.flag.${it.flag}`)))
      : when(status === 'sold' ? it.soldAt : it.createdAt) },
    { label: t('ui.actions'), cell: (it) => actions(it) },
  ];

  function actions(it) {
    const reveal = h('button', { type: 'button', class: 'secondary', 'data-action': 'reveal' }, t('stock.reveal'));
    const remove = it.status === 'available' ? h('button', { type: 'button', class: 'secondary', 'data-action': 'remove' }, t('stock.remove')) : null;
    reveal.addEventListener('click', async () => {
      note.clear();
      if (!await confirmDialog(t('stock.reveal_q'), { ok: t('stock.reveal'), detail: t('stock.reveal_audit') })) return;
      await busy(reveal, async () => {
        try {
          const r = await post(`${api}/stock/${encodeURIComponent(it.id)}/reveal`);
          const row = reveal.closest('tr');
          row.querySelector('code.key').replaceWith(h('code', { class: 'key revealed' }, r.key));
          reveal.remove();
        } catch (e) { note.show(e.message); }
      });
    });
    remove?.addEventListener('click', async () => {
      note.clear();
      if (!await confirmDialog(t('stock.remove_q', { key: it.masked }), { ok: t('stock.remove'), danger: true })) return;
      await busy(remove, async () => {
        try { await del(`${api}/stock/${encodeURIComponent(it.id)}`); note.show(tn('stock.removed', 1), 'ok'); p.reload(); } catch (e) { note.show(e.message); }
      });
    });
    return h('div', { class: 'row' }, reveal, remove);
  }

  removeSel.addEventListener('click', async () => {
    note.clear();
    const ids = [...selected].slice(0, 500);
    if (!await confirmDialog(t('stock.remove_selected_q', { n: ids.length }), { ok: t('stock.remove'), danger: true })) return;
    await busy(removeSel, async () => {
      try {
        const r = await post(`${api}/stock/remove`, { ids });
        note.show(r.skipped?.length ? t('stock.removed_skipped', { n: r.removed, s: r.skipped.length }) : tn('stock.removed', r.removed), 'ok');
        p.reload();
      } catch (e) { note.show(e.message); }
    });
  });

  const p = pager(async (cursor) => {
    const r = await get(`${api}/stock${qs({ productId: sel.product.id, variationId: sel.variationId, status, limit: 50, cursor })}`);
    Object.assign(counts, r.counts || {});
    drawTabs();
    return { rows: r.items, next: r.nextCursor };
  }, (rows, first) => {
    if (first) {
      selected.clear(); syncSel();
      all.checked = false;
      removeSel.hidden = allWrap.hidden = status !== 'available' || !rows.length;
      if (!rows.length) { body.replaceChildren(empty(t(`stock.empty.${status}`))); tbody = null; return; }
      const tb = table(cols(), rows, { caption: t('stock.list_title'), rowAttrs: (it) => ({ 'data-id': it.id }) });
      tbody = tb.querySelector('tbody');
      body.replaceChildren(tb);
    } else if (tbody) {
      const extra = table(cols(), rows, { rowAttrs: (it) => ({ 'data-id': it.id }) });
      tbody.append(...extra.querySelector('tbody').children);
    }
  });
  p.reload();

  const el = h('section', { class: 'card', 'data-section': 'keys' },
    h('h2', {}, t('stock.list_title')), tabs, note, body, h('div', { class: 'actions' }, allWrap, removeSel), p.el);
  return { el, reload: p.reload };
}
