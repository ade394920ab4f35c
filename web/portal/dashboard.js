// The instance list, refreshed every 5 s without a reload, and the "Nova instância" form.
import { t } from '/shared/i18n.js';
import { get, post } from '/shared/api.js';
import { h, field, notice, busy, showError } from './dom.js';
import { statusBadge } from './status.js';

const REFRESH_MS = 5000;

function item(inst) {
  const href = `/dashboard/instances/${encodeURIComponent(inst.id)}`;
  return h('li', { class: 'inst', 'data-id': inst.id },
    h('div', {},
      h('a', { class: 'name', href, 'data-link': true }, inst.name),
      h('div', { class: 'meta' }, inst.bot ? (inst.bot.name || '') : t('dash.no_bot')),
      inst.status === 'erro' && inst.lastError ? h('div', { class: 'err-text' }, inst.lastError) : null),
    h('div', { class: 'row' }, statusBadge(inst),
      h('a', { class: 'button secondary', href, 'data-link': true }, t('dash.open'))));
}

export function renderDashboard(root, { navigate }) {
  const list = h('ul', { class: 'inst-list', 'aria-live': 'polite' });
  const status = h('p', { class: 'spinner' }, t('common.loading'));
  const listNote = notice();
  const name = field({ id: 'new-name', label: t('dash.new_name'), attrs: { maxlength: '80', autocomplete: 'off' } });
  const create = h('button', { type: 'submit' }, t('dash.create'));
  const note = notice();
  const form = h('form', { class: 'card new-form', novalidate: true },
    h('h2', {}, t('dash.new')), name.wrap, h('div', { class: 'actions' }, create), note);

  let stopped = false, timer = null;
  async function load() {
    try {
      const { instances } = await get('/api/instances');
      if (stopped) return;
      listNote.clear();
      status.hidden = instances.length > 0;
      status.className = 'empty';
      status.textContent = t('dash.empty');
      list.replaceChildren(...instances.map(item));
    } catch (e) {
      if (stopped) return;
      if (!list.children.length) status.hidden = true;
      listNote.show(e.message);
    } finally {
      if (!stopped) timer = setTimeout(load, REFRESH_MS);
    }
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    note.clear();
    const n = name.input.value.trim();
    if (!n) { name.setError(t('dash.name_required')); name.input.focus(); return; }
    await busy(create, async () => {
      try {
        const inst = await post('/api/instances', { name: n });
        navigate(`/dashboard/instances/${encodeURIComponent(inst.id)}`);
      } catch (e) {
        showError(e, { name }, note);
      }
    });
  });

  root.replaceChildren(
    h('h1', {}, t('dash.title')),
    h('p', { class: 'muted' }, t('dash.intro'),
      ' ', h('a', { href: '/dashboard/wallet', 'data-link': true, id: 'to-wallet' }, t('wallet.open'))),
    h('section', { class: 'card' }, status, listNote, list),
    form);
  load();
  return () => { stopped = true; clearTimeout(timer); };
}
