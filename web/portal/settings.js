// The "Configurações" tab: bot token (write-only), API key (shown once), the store's
// settings, rename, and delete (typing the name to confirm).
import { t } from '/shared/i18n.js';
import { put, post, patch, del } from '/shared/api.js';
import { h, field, notice, busy, showError } from './dom.js';

const SNOWFLAKES = ['storeChannelId', 'logChannelId', 'cartCategoryId', 'staffRoleId'];

function tokenSection(inst, ctx, base) {
  const token = field({ id: 'bot-token', label: t('set.token'), type: 'password', attrs: { autocomplete: 'off', spellcheck: 'false' } });
  const current = h('p', { class: 'hint', id: 'bot-current' }, inst.bot ? t('set.token_current', { name: inst.bot.name || inst.bot.id }) : '');
  const save = h('button', { type: 'submit' }, t('set.token_save'));
  const note = notice();
  const form = h('form', { class: 'card', novalidate: true, 'data-section': 'token' },
    h('h2', {}, t('set.token_title')), h('p', { class: 'hint' }, t('set.token_help')),
    current, token.wrap, h('div', { class: 'actions' }, save), note);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    note.clear();
    const v = token.input.value.trim();
    if (!v) { token.setError(t('set.token_required')); token.input.focus(); return; }
    await busy(save, async () => {
      try {
        const next = await put(`${base}/token`, { token: v });
        token.input.value = '';
        const name = next.bot?.name || next.bot?.id || '';
        current.textContent = t('set.token_current', { name });
        note.show(t('set.token_saved', { name }), 'ok');
        ctx.update(next);
      } catch (e) {
        showError(e, { token }, note);
      }
    });
  });
  return form;
}

function keySection(inst, base) {
  let hasKey = inst.hasApiKey;
  const state = h('p', { class: 'hint' });
  const button = h('button', { type: 'button', 'data-action': 'api-key' });
  const out = h('div', {});
  const note = notice();
  const show = () => {
    state.textContent = hasKey ? t('set.key_exists') : t('set.key_none');
    button.textContent = hasKey ? t('set.key_rotate') : t('set.key_create');
    button.className = hasKey ? 'secondary' : '';
  };
  button.addEventListener('click', async () => {
    note.clear();
    await busy(button, async () => {
      try {
        const r = await post(`${base}/api-key`);
        hasKey = true;
        show();
        const copy = h('button', { type: 'button', class: 'secondary' }, t('set.copy'));
        copy.addEventListener('click', async () => {
          try { await navigator.clipboard.writeText(r.apiKey); copy.textContent = t('set.copied'); } catch {
            const sel = getSelection(); sel.selectAllChildren(code);
          }
        });
        const code = h('code', { id: 'api-key' }, r.apiKey);
        out.replaceChildren(h('div', { class: 'keybox', role: 'status' },
          h('strong', {}, t('set.key_once')), code,
          h('div', { class: 'row' }, copy),
          r.usage ? h('p', { class: 'hint' }, t('set.key_usage'), ' ', h('code', {}, r.usage)) : null));
      } catch (e) {
        note.show(e.message);
      }
    });
  });
  show();
  return h('section', { class: 'card', 'data-section': 'api-key' },
    h('h2', {}, t('set.key_title')), h('p', { class: 'hint' }, t('set.key_help')),
    state, h('div', { class: 'actions' }, button), out, note);
}

function settingsSection(inst, ctx, base) {
  const s = inst.settings || {};
  const f = {};
  for (const k of SNOWFLAKES) {
    f[k] = field({ id: k, label: t(`set.${k}`), value: s[k] || '', attrs: { inputmode: 'numeric', autocomplete: 'off', maxlength: '25' } });
  }
  f.cartMode = field({ id: 'cartMode', label: t('set.cartMode'), type: 'select' });
  for (const m of ['thread', 'channel']) f.cartMode.input.append(h('option', { value: m }, t(`set.cartMode_${m}`)));
  f.cartMode.input.value = s.cartMode || 'thread';
  f.cartInactivityMinutes = field({ id: 'cartInactivityMinutes', label: t('set.cartInactivityMinutes'), type: 'number', value: String(s.cartInactivityMinutes ?? 30), attrs: { min: '5', max: '1440', step: '1', inputmode: 'numeric' } });
  f.locale = field({ id: 'locale', label: t('set.locale'), type: 'select' });
  f.locale.input.append(h('option', { value: 'pt-BR' }, 'Português (Brasil)'), h('option', { value: 'en' }, 'English'));
  f.locale.input.value = s.locale || 'pt-BR';
  const showCategory = () => { f.cartCategoryId.wrap.hidden = f.cartMode.input.value !== 'channel'; };
  f.cartMode.input.addEventListener('change', showCategory);
  showCategory();

  const save = h('button', { type: 'submit' }, t('set.save'));
  const note = notice();
  const form = h('form', { class: 'card', novalidate: true, 'data-section': 'settings' },
    h('h2', {}, t('set.settings_title')),
    h('div', { class: 'grid2' }, f.storeChannelId.wrap, f.logChannelId.wrap, f.cartMode.wrap, f.cartCategoryId.wrap,
      f.staffRoleId.wrap, f.cartInactivityMinutes.wrap, f.locale.wrap),
    h('p', { class: 'hint' }, t('set.snowflake_help')),
    h('div', { class: 'actions' }, save), note);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    note.clear();
    const body = {};
    let bad = null;
    for (const k of SNOWFLAKES) {
      const v = f[k].input.value.trim();
      if (v && !/^\d{1,25}$/.test(v)) { f[k].setError(t('set.snowflake_bad')); bad ??= f[k]; }
      body[k] = v || null;
    }
    const min = Number(f.cartInactivityMinutes.input.value);
    if (!Number.isInteger(min) || min < 5 || min > 1440) { f.cartInactivityMinutes.setError(t('set.minutes_bad')); bad ??= f.cartInactivityMinutes; }
    body.cartInactivityMinutes = min;
    body.cartMode = f.cartMode.input.value;
    body.locale = f.locale.input.value;
    if (bad) { bad.input.focus(); return; }
    await busy(save, async () => {
      try {
        const next = await patch(base, { settings: body });
        note.show(t('set.saved'), 'ok');
        ctx.update(next);
      } catch (e) {
        showError(e, f, note);
      }
    });
  });
  return form;
}

function renameSection(inst, ctx, base) {
  const name = field({ id: 'inst-name', label: t('set.name'), value: inst.name, attrs: { maxlength: '80', autocomplete: 'off' } });
  const save = h('button', { type: 'submit', class: 'secondary' }, t('set.rename'));
  const note = notice();
  const form = h('form', { class: 'card', novalidate: true, 'data-section': 'rename' },
    h('h2', {}, t('set.rename_title')), name.wrap, h('div', { class: 'actions' }, save), note);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    note.clear();
    const v = name.input.value.trim();
    if (!v) { name.setError(t('dash.name_required')); name.input.focus(); return; }
    await busy(save, async () => {
      try {
        const next = await patch(base, { name: v });
        note.show(t('set.saved'), 'ok');
        ctx.update(next);
      } catch (e) {
        showError(e, { name }, note);
      }
    });
  });
  return form;
}

function deleteSection(inst, ctx, base) {
  const confirm = field({ id: 'delete-confirm', label: t('set.delete_confirm'), attrs: { autocomplete: 'off', spellcheck: 'false' } });
  const go = h('button', { type: 'submit', class: 'danger', disabled: true }, t('set.delete'));
  const help = h('p', { class: 'hint' }, t('set.delete_help', { name: inst.name }));
  const note = notice();
  const form = h('form', { class: 'card', novalidate: true, 'data-section': 'delete' },
    h('h2', {}, t('set.delete_title')), help, confirm.wrap, h('div', { class: 'actions' }, go), note);
  // The name can change (rename); the check reads the current one.
  let current = inst.name;
  form.rename = (n) => { current = n; help.textContent = t('set.delete_help', { name: n }); go.disabled = confirm.input.value !== n; };
  confirm.input.addEventListener('input', () => { go.disabled = confirm.input.value !== current; });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (confirm.input.value !== current) return;
    note.clear();
    await busy(go, async () => {
      try {
        await del(base, { confirm: confirm.input.value });
        ctx.navigate('/dashboard');
      } catch (e) {
        showError(e, { confirm }, note);
      }
    });
  });
  return form;
}

export function renderSettings(inst, ctx) {
  const base = `/api/instances/${encodeURIComponent(inst.id)}`;
  const danger = deleteSection(inst, ctx, base);
  const update = ctx.update;
  // Keep the delete check in step with a rename done here.
  const local = { ...ctx, update(next) { update(next); danger.rename(next.name); } };
  return h('div', { 'data-tab': 'settings' },
    tokenSection(inst, local, base), keySection(inst, base), settingsSection(inst, local, base),
    renameSection(inst, local, base), danger);
}
