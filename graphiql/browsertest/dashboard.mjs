// Opens the example dashboard (examples/dashboard) in Debian's headless
// Chromium as a person would: it offers the sign-in page, which comes back
// to it signed in; then it reports what the dashboard shows, checks that an
// invoice's PDF link opens, changes the tenant through the API (as another
// client would) and waits for the change to arrive live. Prints its report
// as JSON on stdout; httpapi/dashboard_browser_test.go makes the assertions.
//
// Environment: DASHBOARD_URL (the page), EMAIL and PASSWORD (a member's),
// LIVE (the state the live badge must reach: connected, or ended for a role
// without EVENTS_READ), CHROMIUM. With TRIGGERS (JSON: [{query,
// variables}], run in order once the dashboard is live): API_URL (the
// /graphql endpoint), TRIGGER_TOKEN (the API key they run with),
// EXPECT_LIVE (comma-separated wire types that must arrive live),
// EXPECT_NAME and EXPECT_INTERACTIONS (what the dashboard must show after).
import { env, withBrowser } from './browser.mjs';

const script = 'dashboard.mjs';
const dashboardURL = env(script, 'DASHBOARD_URL');
const email = env(script, 'EMAIL');
const password = env(script, 'PASSWORD');
const liveState = env(script, 'LIVE');
const triggers = process.env.TRIGGERS ? JSON.parse(process.env.TRIGGERS) : [];
const [apiURL, triggerToken, expectLive, expectName, expectInteractions] = triggers.length
  ? ['API_URL', 'TRIGGER_TOKEN', 'EXPECT_LIVE', 'EXPECT_NAME', 'EXPECT_INTERACTIONS'].map((n) => env(script, n))
  : [];

const report = {};
const step = (s) => report.steps.push(s);

// What the dashboard shows, read from its DOM.
const snapshot = (page) => page.evaluate(() => {
  const text = (sel) => document.querySelector(sel)?.textContent.trim() ?? null;
  const all = (sel, f) => Array.from(document.querySelectorAll(sel), f);
  const total = (id) => {
    const v = document.getElementById(id)?.dataset.total;
    return v === undefined ? null : Number(v);
  };
  return {
    state: document.body.dataset.state,
    who: text('#who'),
    tenantName: text('#tenant-name'),
    planName: text('#plan-name'),
    meters: Object.fromEntries(all('[data-usage]', (m) => [m.dataset.usage, { used: Number(m.dataset.used), limit: m.dataset.limit === '' ? null : Number(m.dataset.limit) }])),
    invoicesTotal: total('invoices-count'),
    invoices: all('#invoice-rows tr', (r) => ({ id: r.dataset.invoiceId, number: r.cells[0].textContent, href: r.querySelector('a[data-pdf]')?.getAttribute('href') ?? null })),
    apiKeysTotal: total('api-keys-count'),
    apiKeys: all('#api-key-rows [data-name]', (c) => c.textContent),
    membersTotal: total('members-count'),
    members: all('#member-rows [data-email]', (c) => c.textContent),
    events: all('#event-rows li', (li) => ({ id: li.dataset.eventId, wireType: li.dataset.wireType, live: li.dataset.live === 'true' })),
    live: document.getElementById('live')?.dataset.live ?? null,
    sectionErrors: all('section .error:not([hidden])', (e) => `${e.closest('section').id} ${e.dataset.code}: ${e.textContent}`),
  };
});

await withBrowser(report, async (context, page) => {
  // 1. Not signed in: the dashboard offers the sign-in page, which returns
  //    to it.
  await page.goto(dashboardURL);
  await page.waitForSelector('body[data-state="signed-out"]', { timeout: 30000 });
  report.signInHref = await page.getAttribute('#sign-in', 'href');
  step('the dashboard offers to sign in');
  await page.click('#sign-in');
  await page.waitForSelector('#email', { timeout: 10000 });
  await page.fill('#email', email);
  await page.click('#continue');
  await page.waitForSelector('#password', { state: 'visible', timeout: 10000 });
  await page.fill('#password', password);
  await Promise.all([
    page.waitForURL((u) => u.href === dashboardURL, { timeout: 30000 }),
    page.click('#continue'),
  ]);
  step('signed in and came back');

  // 2. Signed in: everything shown, and the live subscription connected
  //    (or not, for a role that may not read events).
  await page.waitForSelector('body[data-state="ready"]', { timeout: 30000 });
  await page.waitForSelector(`#live[data-live="${liveState}"]`, { timeout: 30000 });
  report.before = await snapshot(page);
  step(`the dashboard is ready, live: ${liveState}`);

  // 3. An invoice's PDF link opens: the browser follows it as a person
  //    clicking would, with the session cookie (the tab it opens gets the
  //    response), and the bytes are a PDF.
  // A locator, not an element handle: a refresh re-renders the rows.
  const link = page.locator('a[data-pdf]').first();
  if (await link.count()) {
    const href = await link.getAttribute('href');
    const target = new URL(href, page.url()).href;
    // Caught here so that a failed click is what the report says.
    const responded = context.waitForEvent('response', { predicate: (r) => r.url() === target, timeout: 30000 }).catch((e) => e);
    await link.click();
    const resp = await responded;
    if (resp instanceof Error) throw resp;
    report.pdfNavigation = { url: target, status: resp.status(), contentType: resp.headers()['content-type'] ?? null };
    report.pdfFetch = await page.evaluate(async (u) => {
      const r = await fetch(u, { credentials: 'same-origin' });
      const bytes = new Uint8Array(await r.arrayBuffer());
      return { status: r.status, contentType: r.headers.get('content-type'), magic: String.fromCharCode(...bytes.slice(0, 5)), size: bytes.length };
    }, href);
    for (const p of context.pages()) if (p !== page) await p.close();
    step('opened an invoice PDF');
  }

  // 4. Another client changes the tenant: the events arrive live and the
  //    dashboard reads the tenant again. A subscription starts with the
  //    events committed after it began: give the subscribe message, sent
  //    right after the connection's acknowledgement, time to be served.
  report.triggered = [];
  if (triggers.length) {
    await page.waitForTimeout(500);
    for (const t of triggers) {
      const r = await fetch(apiURL, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${triggerToken}` },
        body: JSON.stringify(t),
      });
      report.triggered.push({ status: r.status, body: await r.text() });
    }
    step('changed the tenant through the API');
    try {
      for (const wireType of expectLive.split(',')) {
        await page.waitForSelector(`#event-rows li[data-live="true"][data-wire-type="${wireType}"]`, { timeout: 30000 });
      }
      await page.waitForFunction(([name, interactions]) =>
        document.getElementById('tenant-name')?.textContent === name &&
        document.querySelector('[data-usage="interactions"]')?.dataset.used === interactions,
      [expectName, expectInteractions], { timeout: 30000 });
      step('the change arrived live');
    } catch (e) {
      // The Go test says what differs, from the snapshot below.
      step(`waiting for the change: ${e.message.split('\n')[0]}`);
    }
  }
  report.after = await snapshot(page);

  // 5. Signing out ends the session: the dashboard offers the sign-in page
  //    again.
  await page.click('#sign-out');
  await page.waitForSelector('body[data-state="signed-out"]', { timeout: 15000 });
  report.cookiesAfterSignOut = (await context.cookies()).map((c) => c.name);
  step('signed out');
});
