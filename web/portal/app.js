// The seller portal's entry module: session, top bar and client-side routing.
// Routes: "/" sign in / sign up; "/dashboard" the instance list;
// "/dashboard/instances/<id>[/<tab>]" one instance; "/dashboard/wallet" the seller's wallet. The server answers index.html for any
// path under /dashboard, so these URLs survive a reload.
import { translate, wireLanguageSwitch } from '/shared/i18n.js';
import { get, post, idle, setCsrf, setUnauthorizedHandler } from '/shared/api.js';
import { session } from './state.js';
import { renderLogin } from './login.js';
import { renderDashboard } from './dashboard.js';
import { renderInstance } from './instance.js';
import { renderWallet } from './wallet.js';

const app = document.getElementById('app');
let cleanup = null;

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path);
  else if (path !== location.pathname + location.search) history.pushState(null, '', path);
  render();
}

function showTopbar() {
  document.getElementById('who').textContent = session.user ? (session.user.email || session.user.name || '') : '';
  document.getElementById('logout').hidden = !session.user;
}

async function render() {
  if (cleanup) { cleanup(); cleanup = null; }
  translate();
  showTopbar();
  const path = location.pathname.replace(/\/+$/, '') || '/';
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (path === '/' || !session.user) {
    if (session.user) return navigate('/dashboard', { replace: true });
    if (path !== '/') history.replaceState(null, '', '/');
    cleanup = renderLogin(app, { onSignedIn });
  } else if (parts[0] === 'dashboard' && parts[1] === 'wallet' && parts.length === 2) {
    cleanup = renderWallet(app);
  } else if (parts[0] === 'dashboard' && parts[1] === 'instances' && parts[2]) {
    cleanup = renderInstance(app, parts[2], parts[3] || 'overview', { navigate, sub: parts[4] || null });
  } else {
    if (path !== '/dashboard') history.replaceState(null, '', '/dashboard');
    cleanup = renderDashboard(app, { navigate });
  }
  document.title = `Astra — ${app.querySelector('h1, h2')?.textContent || ''}`;
}

function onSignedIn({ user, csrf }) {
  session.user = user;
  setCsrf(csrf);
  navigate('/dashboard');
}

function signedOut() {
  session.user = null;
  setCsrf(null);
  navigate('/', { replace: true });
}

// In-app links (<a data-link>) change the URL without a reload.
document.addEventListener('click', (ev) => {
  const a = ev.target.closest('a[data-link]');
  if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey) return;
  ev.preventDefault();
  navigate(a.getAttribute('href'));
});
window.addEventListener('popstate', render);

const logout = document.getElementById('logout');
logout.addEventListener('click', async () => {
  logout.disabled = true;
  if (cleanup) { cleanup(); cleanup = null; } // no more refreshes
  await idle();
  try { await post('/api/auth/logout', undefined, { quiet401: true }); } catch { /* signed out either way */ }
  logout.disabled = false;
  signedOut();
});
setUnauthorizedHandler(signedOut);
wireLanguageSwitch(document.getElementById('lang'), render);

async function boot() {
  translate();
  try {
    const me = await get('/api/me', { quiet401: true });
    session.user = me.user;
    setCsrf(me.csrf);
  } catch {
    session.user = null;
  }
  render();
}
boot();
