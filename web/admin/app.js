// The admin panel's entry module. The token is kept in sessionStorage (gone when the tab
// closes) and sent as a Bearer header; for now the panel shows /api/status.
import { t, translate, wireLanguageSwitch } from '/shared/i18n.js';

const $ = (id) => document.getElementById(id);

function token() { return sessionStorage.getItem('astra.admin.token'); }

async function api(path) {
  const r = await fetch(path, { headers: { authorization: `Bearer ${token()}` } });
  if (r.status === 401) throw Object.assign(new Error('unauthorized'), { status: 401 });
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  return r.json();
}

function row(list, label, value) {
  const dt = document.createElement('dt');
  dt.textContent = label;
  const dd = document.createElement('dd');
  dd.textContent = value;
  list.append(dt, dd);
}

function duration(s) {
  const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
  return `${d ? d + 'd ' : ''}${h}h ${m}m`;
}

async function show() {
  if (!token()) {
    $('login').hidden = false;
    $('status').hidden = true;
    $('logout').hidden = true;
    return;
  }
  try {
    const s = await api('/api/status');
    const list = $('status-list');
    list.replaceChildren();
    row(list, t('admin.version'), s.version);
    row(list, t('admin.uptime'), duration(s.uptime_s));
    row(list, t('admin.store'), `${s.store.state} · seq ${s.store.seq}`);
    row(list, t('admin.memory'), `${(s.memory.rss_bytes / 1048576).toFixed(1)} MiB`);
    row(list, t('admin.records'), String(s.store.records));
    $('login').hidden = true;
    $('status').hidden = false;
    $('logout').hidden = false;
  } catch (e) {
    if (e.status === 401) {
      sessionStorage.removeItem('astra.admin.token');
      $('login-error').textContent = t('admin.bad_token');
      $('login-error').hidden = false;
      $('login').hidden = false;
    } else {
      $('login-error').textContent = t('common.error');
      $('login-error').hidden = false;
    }
  }
}

$('login').addEventListener('submit', (ev) => {
  ev.preventDefault();
  sessionStorage.setItem('astra.admin.token', $('token').value.trim());
  $('login-error').hidden = true;
  show();
});
$('logout').addEventListener('click', () => {
  sessionStorage.removeItem('astra.admin.token');
  show();
});
translate();
wireLanguageSwitch($('lang'), show);
show();
