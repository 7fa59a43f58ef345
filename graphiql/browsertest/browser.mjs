// What the browser scripts share: Debian's headless Chromium with a fresh
// profile, every request recorded (redirect hops too, in `seen`) and any
// that would leave loopback recorded in `offLoopback` and aborted, and the
// page's console errors and uncaught exceptions in `console`. The Go tests
// run the scripts with runBrowserScript (httpapi/graphiql_browser_test.go).
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** env returns the environment variable name, which script requires. */
export const env = (script, name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${script}: ${name} is not set`);
  return v;
};

/**
 * isLoopback: the URL stays on this machine, or is no network request at
 * all (data:, blob:, about:, and chrome: and chrome-extension:, the
 * browser's own pages such as its PDF viewer).
 */
export const isLoopback = (u) => {
  const url = new URL(u);
  if (['data:', 'blob:', 'about:', 'chrome:', 'chrome-extension:'].includes(url.protocol)) return true;
  return ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
};

/**
 * withBrowser runs fn(context, page) in a new headless Chromium, recording
 * into report (which gets requests, seen, offLoopback, console and steps),
 * closes the browser, and prints report as JSON on stdout (with `error`
 * and exit status 1 when fn threw). consoleTypes are
 * the console message types recorded (default: error). ignoreHTTPSErrors
 * accepts a loopback identity provider's own certificate.
 */
export async function withBrowser(report, fn, { consoleTypes = ['error'], ignoreHTTPSErrors = false } = {}) {
  Object.assign(report, { requests: [], seen: [], offLoopback: [], console: [], steps: [] });
  const userDataDir = mkdtempSync(join(tmpdir(), 'browsertest-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    ignoreHTTPSErrors,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    await context.route('**/*', (route) => {
      const u = route.request().url();
      report.requests.push(`${route.request().method()} ${u}`);
      if (!isLoopback(u)) {
        report.offLoopback.push(u);
        return route.abort();
      }
      return route.continue();
    });
    // Redirects are requests the route above does not see.
    context.on('request', (r) => {
      report.seen.push(`${r.method()} ${r.url()}`);
      if (!isLoopback(r.url())) report.offLoopback.push(r.url());
    });
    const watched = new WeakSet();
    const watch = (page) => {
      if (watched.has(page)) return;
      watched.add(page);
      page.on('websocket', (ws) => {
        report.requests.push(`WS ${ws.url()}`);
        if (!isLoopback(ws.url())) report.offLoopback.push(ws.url());
      });
      page.on('console', (m) => {
        if (consoleTypes.includes(m.type())) report.console.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => report.console.push(`pageerror: ${e.message}`));
    };
    context.on('page', watch);
    context.pages().forEach(watch);
    const page = context.pages()[0] ?? (await context.newPage());
    watch(page);
    await fn(context, page);
  } catch (e) {
    // The report so far says where it stopped; the exit status fails the test.
    report.error = e.stack ?? String(e);
    process.exitCode = 1;
  } finally {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
}
