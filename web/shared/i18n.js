// Message catalogue shared by both apps: pt-BR first, English available. The choice is kept
// in localStorage and defaults to the browser's language.
const catalogues = {
  'pt-BR': {
    'portal.title': 'Astra — Portal do vendedor',
    'portal.tagline': 'Sua loja dentro do Discord: produtos, carrinho privado, Pix e entrega automática da chave.',
    'portal.soon': 'O cadastro e o painel do vendedor chegam em breve.',
    'portal.health': 'Estado do servidor',
    'admin.title': 'Astra — Painel administrativo',
    'admin.token': 'Token do painel (ADMIN_PANEL_TOKEN)',
    'admin.enter': 'Entrar',
    'admin.logout': 'Sair',
    'admin.bad_token': 'Token inválido.',
    'admin.status': 'Estado do sistema',
    'admin.version': 'Versão',
    'admin.uptime': 'No ar há',
    'admin.store': 'Armazenamento',
    'admin.memory': 'Memória (RSS)',
    'admin.records': 'Registros',
    'common.loading': 'Carregando…',
    'common.error': 'Não foi possível falar com o servidor.',
    'common.lang': 'English',
  },
  en: {
    'portal.title': 'Astra — Seller portal',
    'portal.tagline': 'Your store inside Discord: products, private cart, Pix and automatic key delivery.',
    'portal.soon': 'Seller sign-up and dashboard are coming soon.',
    'portal.health': 'Server status',
    'admin.title': 'Astra — Admin panel',
    'admin.token': 'Panel token (ADMIN_PANEL_TOKEN)',
    'admin.enter': 'Sign in',
    'admin.logout': 'Sign out',
    'admin.bad_token': 'Invalid token.',
    'admin.status': 'System status',
    'admin.version': 'Version',
    'admin.uptime': 'Up for',
    'admin.store': 'Store',
    'admin.memory': 'Memory (RSS)',
    'admin.records': 'Records',
    'common.loading': 'Loading…',
    'common.error': 'Could not reach the server.',
    'common.lang': 'Português',
  },
};

export function locale() {
  const saved = localStorage.getItem('astra.locale');
  if (saved && catalogues[saved]) return saved;
  return (navigator.language || '').toLowerCase().startsWith('en') ? 'en' : 'pt-BR';
}

export function setLocale(l) {
  localStorage.setItem('astra.locale', catalogues[l] ? l : 'pt-BR');
}

export function t(key) {
  return catalogues[locale()][key] ?? catalogues['pt-BR'][key] ?? key;
}

// Fills every element that has data-i18n="key" with its text.
export function translate(root = document) {
  document.documentElement.lang = locale();
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
}

export function wireLanguageSwitch(button, onChange) {
  button.addEventListener('click', () => {
    setLocale(locale() === 'en' ? 'pt-BR' : 'en');
    translate();
    onChange?.();
  });
}
