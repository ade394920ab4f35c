// The seller portal in a real browser: a new seller signs up, creates an instance, sets the
// bot token (sees the bot's name), creates an API key, starts the bot and sees it go online,
// and changes a setting; any console error or page error fails the test. Screenshots of the
// main pages go to tests/artifacts/browser/.
import { test, assert, eq, match } from '../e2e/lib/harness.mjs';
import { startDaemon, tmpDir } from '../e2e/lib/daemon.mjs';
import { DATA_KEY } from '../e2e/lib/seed.mjs';
import { startFakeDiscord } from '../fakes/discord/server.mjs';
import { withBrowser, shot } from './browser.mjs';

test('a new seller signs up, sets up an instance and brings its bot online', async () => {
  const fake = await startFakeDiscord({ heartbeatInterval: 1000 });
  const app = fake.createApp({ name: 'Bot da Loja' });
  const d = await startDaemon({ dir: tmpDir(), env: { DISCORD_API_BASE: fake.apiBase, DATA_ENCRYPTION_KEY: DATA_KEY } });
  try {
    await withBrowser(async (page) => {
      page.expectedHttpErrors.add('401 /api/me');
      await page.goto(`${d.portal}/`);
      await page.getByRole('heading', { name: 'Entrar' }).waitFor();
      await shot(page, 'login');

      // inline validation before anything is sent, then sign up
      await page.getByRole('button', { name: 'Ainda não tem conta? Criar conta' }).click();
      await page.getByLabel('E-mail').fill('nao-e-email');
      await page.getByRole('button', { name: 'Criar conta', exact: true }).click();
      match(await page.locator('#email-error').textContent(), /e-mail válido/);
      await page.getByLabel('E-mail').fill(`vendedor${Date.now()}@loja.test`);
      await page.getByLabel('Senha').fill('senha-forte-123');
      await page.getByRole('button', { name: 'Criar conta', exact: true }).click();
      await page.waitForURL(/\/dashboard$/);
      await page.getByRole('heading', { name: 'Suas instâncias' }).waitFor();
      await page.getByText('Você ainda não tem instâncias').waitFor();

      // a new instance opens its page
      await page.getByLabel('Nome da loja').fill('Minha Loja');
      await page.getByRole('button', { name: 'Criar', exact: true }).click();
      await page.waitForURL(/\/dashboard\/instances\/[^/]+$/);
      await page.getByRole('heading', { name: 'Minha Loja' }).waitFor();
      await page.locator('.inst-head .badge[data-status="offline"]').waitFor();

      // settings: a refused token is shown next to the field, then the real one
      await page.locator('.tabs a', { hasText: 'Configurações' }).click();
      await page.waitForURL(/\/settings$/);
      page.expectedHttpErrors.add(`400 ${new URL(page.url()).pathname.replace('/dashboard', '/api').replace(/\/settings$/, '/token')}`);
      await page.getByLabel('Token', { exact: true }).fill('x'.repeat(10));
      await page.getByRole('button', { name: 'Salvar token' }).click();
      await page.locator('#bot-token-error:not([hidden])').waitFor();
      await page.getByLabel('Token', { exact: true }).fill(app.token);
      await page.getByRole('button', { name: 'Salvar token' }).click();
      await page.locator('[data-section="token"] .notice.ok').waitFor();
      const botName = (await page.locator('[data-section="token"] .notice.ok').textContent()).replace(/^Token salvo\. Bot: /, '');
      assert(botName && !botName.startsWith('Token'), 'the bot name is shown');
      eq(await page.getByLabel('Token', { exact: true }).inputValue(), '', 'the token is not shown back');

      // API key, shown once
      await page.getByRole('button', { name: 'Criar chave de API' }).click();
      const key = await page.locator('#api-key').textContent();
      match(key, /^astra_[0-9a-f]{48}$/);
      await page.getByText('não será mostrada de novo').waitFor();

      // a setting
      await page.getByLabel('Carrinho', { exact: true }).selectOption('channel');
      await page.getByLabel('Fechar carrinho inativo após (minutos)').fill('20');
      await page.getByRole('button', { name: 'Salvar', exact: true }).click();
      await page.locator('[data-section="settings"] .notice.ok').waitFor();
      await shot(page, 'settings');

      // overview: start, and the badge turns online by itself
      await page.locator('.tabs a', { hasText: 'Visão geral' }).click();
      await page.locator('.bot .bot-name', { hasText: botName }).waitFor();
      await page.getByRole('button', { name: 'Ligar', exact: true }).click();
      await page.locator('.inst-head .badge[data-status="online"]').waitFor({ timeout: 15000 });
      assert(await page.getByRole('link', { name: 'Convidar o bot para o servidor' }).isVisible(), 'invite link');
      await shot(page, 'instance-overview');

      // the products tab (empty), then the list shows the instance online
      await page.locator('.tabs a', { hasText: 'Produtos' }).click();
      await page.getByText('Nenhum produto ainda').waitFor();
      await page.getByRole('link', { name: '← Instâncias' }).click();
      await page.locator('.inst .badge[data-status="online"]').waitFor();
      await shot(page, 'dashboard');

      // the setting stuck, after a reload straight into the settings page
      const id = await page.locator('.inst').getAttribute('data-id');
      await page.goto(`${d.portal}/dashboard/instances/${id}/settings`);
      eq(await page.getByLabel('Carrinho', { exact: true }).inputValue(), 'channel');
      eq(await page.getByLabel('Fechar carrinho inativo após (minutos)').inputValue(), '20');

      // narrow layout, then sign out
      await page.setViewportSize({ width: 390, height: 800 });
      await page.goto(`${d.portal}/dashboard/instances/${id}`);
      await page.locator('.inst-head .badge').waitFor();
      await shot(page, 'instance-overview-phone');
      await page.getByRole('button', { name: 'Sair', exact: true }).click();
      await page.getByRole('heading', { name: 'Entrar' }).waitFor();
    });
  } finally {
    await d.stop();
    await fake.close?.();
  }
}, { timeout: 90000 });
