// Sign in / sign up: email and password checked here first, then the server's verdict is
// shown next to the field it names. Also "Entrar com Discord" and the ?erro=<code> that the
// Discord flow comes back with.
import { t, has } from '/shared/i18n.js';
import { post } from '/shared/api.js';
import { h, field, notice, busy, showError } from './dom.js';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

// The Discord flow reports failures as /?erro=<numeric code>.
function erroMessage() {
  const code = new URLSearchParams(location.search).get('erro');
  if (!code) return null;
  if (has(`erro.${code}`)) return t(`erro.${code}`);
  return t('erro.unknown', { code: code.replace(/[^\w-]/g, '').slice(0, 12) });
}

export function renderLogin(root, { onSignedIn }) {
  let mode = 'login';
  const note = notice();
  const erro = erroMessage();
  if (erro) note.show(erro);

  const email = field({ id: 'email', label: t('auth.email'), type: 'email', attrs: { autocomplete: 'email', required: true } });
  const password = field({ id: 'password', label: t('auth.password'), type: 'password', attrs: { autocomplete: 'current-password', required: true, minlength: '8', maxlength: '128' } });
  const hint = h('p', { class: 'hint', hidden: true }, t('auth.password_hint'));
  password.wrap.insertBefore(hint, password.wrap.querySelector('.field-error'));
  const title = h('h1', {});
  const submit = h('button', { type: 'submit' });
  const toggle = h('button', { type: 'button', class: 'link', onclick: () => setMode(mode === 'login' ? 'signup' : 'login') });
  const form = h('form', { class: 'card auth', novalidate: true },
    title, note, email.wrap, password.wrap, submit,
    h('p', { class: 'switch' }, toggle),
    h('p', { class: 'or' }, t('auth.or')),
    h('a', { class: 'button discord', href: '/api/auth/discord?mode=login' }, t('auth.discord')));

  function setMode(m) {
    mode = m;
    title.textContent = t(m === 'login' ? 'auth.login_title' : 'auth.signup_title');
    submit.textContent = t(m === 'login' ? 'auth.login' : 'auth.signup');
    toggle.textContent = t(m === 'login' ? 'auth.to_signup' : 'auth.to_login');
    password.input.autocomplete = m === 'login' ? 'current-password' : 'new-password';
    hint.hidden = m === 'login';
    email.setError(''); password.setError('');
    document.title = `Astra — ${title.textContent}`;
  }

  function check() {
    const e = email.input.value.trim(), p = password.input.value;
    let ok = true;
    if (!e) { email.setError(t('auth.email_required')); ok = false; }
    else if (!EMAIL.test(e)) { email.setError(t('auth.email_invalid')); ok = false; }
    if (!p) { password.setError(t('auth.password_required')); ok = false; }
    else if (mode === 'signup' && (p.length < 8 || p.length > 128)) { password.setError(t('auth.password_short')); ok = false; }
    if (!ok) form.querySelector('[aria-invalid="true"]')?.focus();
    return ok;
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    note.clear();
    if (!check()) return;
    await busy([submit, toggle], async () => {
      try {
        const body = { email: email.input.value.trim(), password: password.input.value };
        const r = await post(mode === 'login' ? '/api/auth/login' : '/api/auth/signup', body, { quiet401: true });
        if (location.search) history.replaceState(null, '', '/');
        onSignedIn(r);
      } catch (e) {
        showError(e, { email, password }, note);
      }
    });
  });

  setMode('login');
  root.replaceChildren(h('p', { class: 'tagline' }, t('portal.tagline')), form);
  email.input.focus();
  return null;
}
