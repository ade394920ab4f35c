// The "Visão geral" tab: status, the bot, invite link, start/stop/restart, last error,
// whether a Discord server is linked and how to link one with /vincular.
import { t } from '/shared/i18n.js';
import { post } from '/shared/api.js';
import { h, notice, busy } from './dom.js';
import { statusBadge, avatarUrl, when } from './status.js';

function row(label, ...value) {
  return [h('dt', {}, label), h('dd', {}, ...value)];
}

export function renderOverview(inst, ctx) {
  const note = notice();
  const running = inst.desiredState === 'running';
  const base = `/api/instances/${encodeURIComponent(inst.id)}`;
  const buttons = [];
  const action = (what, label, cls, enabled) => {
    const b = h('button', { type: 'button', class: cls, 'data-action': what, disabled: !enabled }, label);
    b.addEventListener('click', async () => {
      note.clear();
      ctx.busy = true;
      let next = null;
      await busy(buttons, async () => {
        try { next = await post(`${base}/${what}`); } catch (e) { note.show(e.message); }
      });
      ctx.busy = false;
      if (next) ctx.update(next);
    });
    buttons.push(b);
    return b;
  };
  const canRun = !!inst.bot && inst.status !== 'suspenso';

  const img = avatarUrl(inst.bot);
  const bot = inst.bot
    ? h('div', { class: 'bot' },
      img ? h('img', { src: img, alt: '', width: '48', height: '48' }) : null,
      h('div', {},
        h('div', { class: 'bot-name' }, inst.bot.name || inst.bot.id || ''),
        inst.bot.inviteUrl ? h('a', { class: 'button secondary', href: inst.bot.inviteUrl, target: '_blank', rel: 'noopener noreferrer' }, t('ov.invite')) : null))
    : h('p', { class: 'muted' }, t('ov.no_bot'), ' ',
      h('a', { href: `/dashboard/instances/${encodeURIComponent(inst.id)}/settings`, 'data-link': true }, t('tab.settings')));

  const facts = h('dl', {},
    row(t('ov.status'), statusBadge(inst)),
    inst.lastError ? row(t('ov.last_error'), h('span', { class: 'error' }, inst.lastError)) : [],
    inst.status === 'online' && inst.latencyMs != null ? row(t('ov.latency'), `${inst.latencyMs} ms`) : [],
    inst.status === 'online' && inst.onlineSince ? row(t('ov.online_since'), when(inst.onlineSince)) : [],
    row(t('ov.guild'), inst.guildId ? t('ov.guild_linked', { id: inst.guildId }) : t('ov.guild_unlinked')),
    row(t('ov.created'), when(inst.createdAt)));

  return h('div', { 'data-tab': 'overview' },
    h('section', { class: 'card' }, h('h2', {}, t('ov.bot')), bot),
    h('section', { class: 'card' }, facts,
      h('div', { class: 'actions' },
        action('start', t('ov.start'), '', canRun && !running),
        action('stop', t('ov.stop'), 'secondary', running),
        action('restart', t('ov.restart'), 'secondary', canRun && running)),
      note),
    inst.guildId ? null : h('section', { class: 'card' },
      h('h2', {}, t('ov.howto_title')),
      h('ol', { class: 'howto' },
        h('li', {}, t('ov.howto_1')), h('li', {}, t('ov.howto_2')),
        h('li', {}, t('ov.howto_3')), h('li', {}, t('ov.howto_4')))));
}
