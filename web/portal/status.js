// An instance's runtime status as a coloured badge, with the last error under it.
import { t } from '/shared/i18n.js';
import { h } from './dom.js';

const kind = { online: 'ok', starting: 'warn', erro: 'err', offline: 'off', suspenso: 'susp' };

export function statusBadge(inst) {
  const s = kind[inst.status] ? inst.status : 'offline';
  const b = h('span', { class: `badge ${kind[s]}`, 'data-status': s }, t(`status.${s}`));
  if (s === 'erro' && inst.lastError) b.title = inst.lastError;
  return b;
}

export function avatarUrl(bot) {
  if (bot?.avatar && bot.id) return `https://cdn.discordapp.com/avatars/${bot.id}/${bot.avatar}.png?size=96`;
  return null;
}

export function when(ms) {
  if (!ms) return '—';
  // The API gives milliseconds; a value in seconds is scaled so both read right.
  const d = new Date(ms < 1e12 ? ms * 1000 : ms);
  return d.toLocaleString(document.documentElement.lang || undefined);
}
