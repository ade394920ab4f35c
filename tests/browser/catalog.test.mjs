// The seller's catalog in a real browser: a product with a variation and a DM template (live
// preview), stock uploaded from a 2500-line file in chunks with a progress bar and a report
// (a duplicate and an invalid line, numbered against the whole file), a revealed and a
// removed key, a coupon, the product posted to a channel of the fake Discord (checked there:
// the embed and a Comprar button), then the orders and customers pages over seeded orders
// (filtered and opened), English once, and the products tab on a phone. Any console error,
// page error or failed request other than the ones provoked on purpose fails the test.
// Screenshots go to tests/artifacts/browser/.
import { test, assert, eq, match, until } from '../e2e/lib/harness.mjs';
import { startDaemon, tmpDir } from '../e2e/lib/daemon.mjs';
import { DATA_KEY } from '../e2e/lib/seed.mjs';
import { startFakeDiscord } from '../fakes/discord/server.mjs';
import { orderRecord, customersFrom, rng, seedOrders, seedCustomers } from '../e2e/lib/orders_seed.mjs';
import { withBrowser, shot } from './browser.mjs';

const DAY = 24 * 3600 * 1000;
const KEYS = 2500;
const DUP_LINE = 1700; // repeats line 10 (in the first chunk): reported as already in stock
const LONG_LINE = 2200; // over 500 characters: invalid

function keyFile() {
  const lines = [];
  for (let i = 1; i <= KEYS; i++) lines.push(`KEY-${String(i).padStart(5, '0')}-ABCDEFGHJK`);
  lines[DUP_LINE - 1] = lines[9];
  lines[LONG_LINE - 1] = 'X'.repeat(600);
  return Buffer.from(`${lines.join('\n')}\n`);
}

// Orders and customers as the selling flow writes them (tests/e2e/lib/orders_seed.mjs): a
// delivered order with a coupon, a pending one, and a refunded one from three days ago.
function orderRecords(instanceId, product) {
  const now = Date.now();
  const b1 = { id: '900000000000000001', name: 'comprador1' };
  const b2 = { id: '900000000000000002', name: 'comprador2' };
  const items = [{ product, variation: product.variations[0] }];
  const order = (seed, code, status, buyer, createdAt, coupon = null) =>
    orderRecord({ r: rng(seed), instanceId, code, status, buyer, items, createdAt, coupon });
  const orders = [
    order(1, 'K7M2Q9XA', 'delivered', b1, now - 3600 * 1000, { id: 'cp-1', code: 'BEMVINDO', type: 'percent', value: 10 }),
    order(2, 'P3N4D1NG', 'pending', b2, now - 600 * 1000),
    order(3, 'OLD0RD3R', 'refunded', b2, now - 3 * DAY),
  ];
  return { orders, customers: customersFrom(orders) };
}

test('a seller builds a catalog, stocks it, posts it and reads orders and customers', async () => {
  const fake = await startFakeDiscord({ heartbeatInterval: 1000 });
  const app = fake.createApp({ name: 'Bot da Loja' });
  const owner = fake.createUser({ username: 'dono' });
  const guild = fake.createGuild({ name: 'Servidor', ownerId: owner.id });
  fake.addBotToGuild(app.appId, guild.id, { permissions: '8' });
  const channel = fake.createChannel(guild.id, { name: 'loja', type: 0 });
  const env = { DISCORD_API_BASE: fake.apiBase, DATA_ENCRYPTION_KEY: DATA_KEY };
  let d = await startDaemon({ dir: tmpDir(), env });
  try {
    await withBrowser(async (page) => {
      page.expectedHttpErrors.add('401 /api/me');
      await page.goto(`${d.portal}/`);
      await page.getByRole('button', { name: 'Ainda não tem conta? Criar conta' }).click();
      await page.getByLabel('E-mail').fill(`catalogo${Date.now()}@loja.test`);
      await page.getByLabel('Senha').fill('senha-forte-123');
      await page.getByRole('button', { name: 'Criar conta', exact: true }).click();
      await page.getByLabel('Nome da loja').fill('Loja do Teste');
      await page.getByRole('button', { name: 'Criar', exact: true }).click();
      await page.waitForURL(/\/dashboard\/instances\/[^/]+$/);
      const instanceId = new URL(page.url()).pathname.split('/')[3];
      const api = `/api/instances/${instanceId}`;
      const tab = (name) => page.locator('.tabs a', { hasText: name }).click();

      // the bot token and the store channel
      await tab('Configurações');
      await page.getByLabel('Token', { exact: true }).fill(app.token);
      await page.getByRole('button', { name: 'Salvar token' }).click();
      await page.locator('[data-section="token"] .notice.ok').waitFor();
      await page.getByLabel('ID do canal da loja').fill(channel.id);
      await page.getByRole('button', { name: 'Salvar', exact: true }).click();
      await page.locator('[data-section="settings"] .notice.ok').waitFor();

      // products: empty, then a new product; the DM preview follows the template, and a
      // placeholder typo is refused next to the field
      await tab('Produtos');
      await page.getByText('Nenhum produto ainda').waitFor();
      await page.getByRole('link', { name: 'Novo produto' }).click();
      await page.waitForURL(/\/products\/new$/);
      await page.locator('#dm-preview', { hasText: 'ABCD-EFGH-IJKL-MNOP' }).waitFor();
      page.expectedHttpErrors.add(`400 ${api}/dm-preview`);
      await page.getByLabel('Modelo da mensagem').fill('Oi {comprador}, {chavee}');
      await page.locator('#prod-dm-error:not([hidden])').waitFor();
      await page.getByLabel('Modelo da mensagem').fill('Obrigado, {comprador}! Pedido {pedido}: {produto} {variacao}\nChave: {chave}\n{loja}');
      await page.locator('#dm-preview', { hasText: 'Obrigado, @comprador!' }).waitFor();
      match(await page.locator('#dm-preview').textContent(), /Obrigado, @comprador! Pedido PEDIDO01/);
      await page.getByLabel('Nome', { exact: true }).fill('Conta Premium');
      await page.getByLabel('Descrição').fill('Entrega automática.');
      await page.getByLabel('Preço (R$)').fill('abc');
      await page.getByRole('button', { name: 'Criar produto' }).click();
      await page.locator('#prod-price-error:not([hidden])').waitFor();
      await page.getByLabel('Preço (R$)').fill('19,90');
      await page.getByLabel('Aviso de estoque baixo').fill('5');
      await shot(page, 'product-new');
      await page.getByRole('button', { name: 'Criar produto' }).click();
      await page.waitForURL(/\/products\/[^/]+$/);
      await page.getByText('Produto criado').waitFor();
      const productId = new URL(page.url()).pathname.split('/').pop();

      // a variation at R$ 24,90
      await page.getByLabel('Nome da variação').fill('30 dias');
      await page.getByLabel('Preço da variação (R$)').fill('24,90');
      await page.getByRole('button', { name: 'Adicionar variação' }).click();
      await page.getByText('Variação adicionada.').waitFor();
      await page.locator('.var-row input[value="30 dias"]').waitFor();
      const prod = await page.evaluate((u) => fetch(u).then((r) => r.json()), `${api}/products/${productId}`);
      eq(prod.priceCents, 1990, 'typed 19,90 is 1990 cents');
      eq(prod.variations.map((v) => [v.name, v.priceCents]), [['30 dias', 2490]], 'the variation');
      match(prod.dmTemplate, /^Obrigado, \{comprador\}/);
      await shot(page, 'product-edit');

      // stock: a 2500-line file in three chunks, with a progress bar and one report
      await tab('Estoque');
      await page.locator('#stock-variation').waitFor();
      eq(await page.locator('#stock-variation option').first().textContent(), '30 dias');
      const chunks = [];
      page.on('request', (r) => { if (r.method() === 'POST' && new URL(r.url()).pathname === `${api}/stock`) chunks.push(r.postDataJSON()); });
      await page.locator('#stock-file').setInputFiles({ name: 'chaves.txt', mimeType: 'text/plain', buffer: keyFile() });
      await page.getByRole('button', { name: 'Enviar arquivo' }).click();
      await page.locator('#stock-added').waitFor({ timeout: 30000 });
      eq(chunks.length, 3, 'three chunks of at most 1000 lines');
      assert(chunks.every((c) => c.productId === productId && c.variationId === prod.variations[0].id && c.format === 'lines'), 'chunk bodies');
      eq(await page.locator('#stock-progress').evaluate((el) => [el.value, el.max]), [KEYS, KEYS], 'progress full');
      eq(await page.locator('#stock-added').textContent(), `${KEYS - 2} chaves adicionadas.`);
      match(await page.locator(`#stock-report li[data-line="${DUP_LINE}"]`).textContent(), /já está no estoque/);
      match(await page.locator(`#stock-report li[data-line="${LONG_LINE}"]`).textContent(), /mais de 500 caracteres/);
      await page.locator('.seg button[data-status="available"]', { hasText: `(${KEYS - 2})` }).waitFor();
      await shot(page, 'stock-upload-report');

      // pasted lines, and a CSV file (header skipped, quotes understood)
      await page.getByLabel('Colar chaves').fill('PASTE-0001-ABCDEFGH\nPASTE-0002-ABCDEFGH\n');
      await page.getByRole('button', { name: 'Adicionar', exact: true }).click();
      await page.locator('.seg button[data-status="available"]', { hasText: `(${KEYS})` }).waitFor();
      eq(await page.locator('#stock-added').textContent(), '2 chaves adicionadas.');
      await page.locator('#stock-file').setInputFiles({ name: 'chaves.csv', mimeType: 'text/csv',
        buffer: Buffer.from('chave,obs\n"CSV-0001-ABCDEFGH",a\nCSV-0002-ABCDEFGH,b\n') });
      await page.getByRole('button', { name: 'Enviar arquivo' }).click();
      // (the paste's report says the same; the count moves only once the CSV is in)
      await page.locator('.seg button[data-status="available"]', { hasText: `(${KEYS + 2})` }).waitFor();
      eq(await page.locator('#stock-added').textContent(), '2 chaves adicionadas.');
      eq(chunks.slice(-2).map((c) => c.format), ['lines', 'csv'], 'paste as lines, .csv as csv');

      // reveal one key (confirmed first, audited), remove another
      const firstRow = page.locator('[data-section="keys"] tbody tr').first();
      match(await firstRow.locator('code.key').textContent(), /^•{8}(GHJK|EFGH)$/, 'masked: bullets and the last 4');
      await firstRow.getByRole('button', { name: 'Revelar' }).click();
      await page.getByText('registrada na auditoria').waitFor();
      await page.locator('dialog [data-action="confirm"]').click();
      match(await firstRow.locator('code.revealed').textContent(), /^(KEY-\d{5}-ABCDEFGHJK|CSV-000\d-ABCDEFGH)$/);
      const second = page.locator('[data-section="keys"] tbody tr').nth(1);
      await second.getByRole('button', { name: 'Remover' }).click();
      await page.locator('dialog [data-action="confirm"]').click();
      await page.locator('.seg button[data-status="available"]', { hasText: `(${KEYS + 1})` }).waitFor();
      assert(await page.getByRole('button', { name: 'Carregar mais' }).isVisible(), 'more keys than one page');
      // two selected keys removed at once
      const rows = page.locator('[data-section="keys"] tbody tr');
      await rows.nth(0).locator('input[type="checkbox"]').check();
      await rows.nth(1).locator('input[type="checkbox"]').check();
      await page.getByRole('button', { name: 'Remover selecionadas (2)' }).click();
      await page.locator('dialog [data-action="confirm"]').click();
      await page.getByText('2 chaves removidas.').waitFor();
      await page.locator('.seg button[data-status="available"]', { hasText: `(${KEYS - 1})` }).waitFor();
      await shot(page, 'stock');

      // a coupon for this product
      await tab('Cupons');
      await page.getByText('Nenhum cupom ainda.').waitFor();
      await page.getByRole('link', { name: 'Novo cupom' }).click();
      await page.getByLabel('Código').fill('bemvindo');
      await page.getByLabel('Tipo de desconto').selectOption('percent');
      await page.getByLabel('Desconto (%)').fill('10');
      await page.getByLabel('Conta Premium').check();
      await page.getByLabel('Limite de usos no total').fill('100');
      await page.getByLabel('Limite por comprador').fill('1');
      const until_ = new Date(Date.now() + 7 * DAY);
      const pad = (n) => String(n).padStart(2, '0');
      await page.getByLabel('Válido até').fill(`${until_.getFullYear()}-${pad(until_.getMonth() + 1)}-${pad(until_.getDate())}T23:59`);
      await page.getByRole('button', { name: 'Criar cupom' }).click();
      await page.getByText('Cupom criado.').waitFor();
      const couponRow = page.locator('tr', { hasText: 'BEMVINDO' });
      match(await couponRow.textContent(), /10%.*Conta Premium.*0 \/ 100/);
      // changed to a fixed R$ 5,00 off
      await couponRow.getByRole('link', { name: 'BEMVINDO' }).click();
      eq(await page.getByLabel('Desconto (%)').inputValue(), '10');
      await page.getByLabel('Tipo de desconto').selectOption('fixed');
      await page.getByLabel('Desconto (R$)').fill('5,00');
      await page.getByRole('button', { name: 'Salvar', exact: true }).click();
      await page.getByText('Salvo.').waitFor();
      match(await page.locator('tr', { hasText: 'BEMVINDO' }).textContent(), /R\$\s5,00/);
      await shot(page, 'coupons');

      // post the product to the store channel (the default) and find it in Discord
      await tab('Produtos');
      await page.locator('tr', { hasText: 'Conta Premium' }).getByRole('link', { name: 'Conta Premium' }).click();
      eq(await page.getByLabel('ID do canal').inputValue(), channel.id, 'defaults to the store channel');
      await page.getByRole('button', { name: 'Publicar', exact: true }).click();
      await page.locator('#post-where', { hasText: `Publicado no canal ${channel.id}` }).waitFor({ timeout: 15000 });
      await page.getByRole('button', { name: 'Republicar', exact: true }).waitFor();
      const msg = await until(() => fake.messages(channel.id).find((m) => !m._deleted && JSON.stringify(m.embeds || []).includes('Conta Premium')),
        { timeout: 5000, what: 'the product post in the channel' });
      const buttons = (msg.components || []).flatMap((row) => row.components || []).filter((c) => c.type === 2);
      assert(buttons.some((b) => b.label === 'Comprar' && b.custom_id === `astra:buy:${productId}`), `a Comprar button: ${JSON.stringify(msg.components)}`);
      await shot(page, 'product-posted');
      await tab('Produtos');
      const listRow = page.locator('tr', { hasText: 'Conta Premium' });
      match(await listRow.textContent(), /a partir de R\$\s19,90/);
      match(await listRow.textContent(), /Publicado em/);
      await shot(page, 'products');

      // orders and customers: stop, seed, start again on the same directory and port
      // (the page leaves first, so that its status poll does not hit a stopped daemon)
      await page.goto('about:blank');
      await d.stop();
      const seeded = orderRecords(instanceId, prod);
      seedOrders(d.dataDir, seeded.orders);
      seedCustomers(d.dataDir, seeded.customers);
      // the same port: the session cookie and the saved language stay with the origin
      d = await startDaemon({ dir: d.dir, portalPort: d.portalPort, env });
      await page.goto(`${d.portal}/dashboard/instances/${instanceId}/orders`);
      await page.locator('#order-count', { hasText: '3 pedidos' }).waitFor();
      await shot(page, 'orders');
      await page.getByLabel('Situação').selectOption('delivered');
      await page.getByRole('button', { name: 'Filtrar' }).click();
      await page.locator('#order-count', { hasText: '1 pedido' }).waitFor();
      eq(await page.locator('tbody tr').count(), 1);
      await page.locator('tbody tr', { hasText: 'K7M2Q9XA' }).waitFor();
      await page.getByRole('button', { name: 'Limpar' }).click();
      await page.getByLabel('Buscar').fill('comprador2');
      await page.getByRole('button', { name: 'Filtrar' }).click();
      await page.locator('#order-count', { hasText: '2 pedidos' }).waitFor();
      const today = new Date();
      await page.getByLabel('De', { exact: true }).fill(`${today.getFullYear()}-${pad(today.getMonth() + 1)}-${pad(today.getDate())}`);
      await page.getByRole('button', { name: 'Filtrar' }).click();
      await page.locator('#order-count', { hasText: '1 pedido' }).waitFor();
      await page.locator('tbody tr', { hasText: 'P3N4D1NG' }).waitFor();
      await page.getByRole('button', { name: 'Limpar' }).click();
      await page.locator('#order-count', { hasText: '3 pedidos' }).waitFor();
      await page.getByRole('link', { name: 'K7M2Q9XA' }).click();
      await page.getByRole('heading', { name: 'Pedido K7M2Q9XA' }).waitFor();
      eq(await page.locator('#order-total').textContent(), 'R$ 22,41');
      match(await page.locator('[data-section="order"]').textContent(), /BEMVINDO/);
      eq(await page.locator('.timeline li').count(), 3);
      await shot(page, 'order-detail');

      await tab('Clientes');
      await page.locator('#customer-count', { hasText: '2 clientes' }).waitFor();
      await shot(page, 'customers');
      await page.getByLabel('Buscar cliente').fill('comprador1');
      await page.getByRole('button', { name: 'Buscar', exact: true }).click();
      await page.locator('#customer-count', { hasText: '1 cliente' }).waitFor();
      await page.getByRole('link', { name: 'comprador1' }).click();
      await page.getByRole('heading', { name: 'comprador1' }).waitFor();
      await page.locator('[data-section="orders"] tbody tr', { hasText: 'K7M2Q9XA' }).waitFor();
      await shot(page, 'customer-detail');

      // English once
      await page.getByRole('button', { name: 'English' }).click();
      await page.locator('.tabs a', { hasText: 'Customers' }).waitFor();
      await page.getByRole('heading', { name: 'This customer\'s orders' }).waitFor();
      await tab('Products');
      await page.getByRole('link', { name: 'New product' }).waitFor();
      match(await page.locator('tr', { hasText: 'Conta Premium' }).textContent(), /from R\$ 19\.90/);
      await shot(page, 'products-en');
      await page.getByRole('button', { name: 'Português' }).click();
      await page.getByRole('link', { name: 'Novo produto' }).waitFor();

      // the products tab on a phone: rows become cards, nothing wider than the screen
      await page.setViewportSize({ width: 390, height: 844 });
      await page.reload();
      await page.locator('tr', { hasText: 'Conta Premium' }).waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert(overflow <= 0, `the page is ${overflow}px wider than the phone`);
      await shot(page, 'products-phone');
    });
    fake.assertNoViolations();
  } finally {
    await d.stop();
    await fake.close?.();
  }
}, { timeout: 180000 });
