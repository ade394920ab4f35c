// The seller portal's entry module. For now: language switch and the server's health badge.
import { t, translate, wireLanguageSwitch } from '/shared/i18n.js';

async function showHealth() {
  const badge = document.getElementById('health');
  try {
    const r = await fetch('/health');
    const body = await r.json();
    badge.textContent = `${body.status} · v${body.version}`;
    badge.className = `badge ${r.ok ? 'ok' : 'err'}`;
  } catch {
    badge.textContent = t('common.error');
    badge.className = 'badge err';
  }
}

translate();
wireLanguageSwitch(document.getElementById('lang'), showHealth);
showHealth();
