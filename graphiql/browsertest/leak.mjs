// Drives GraphiQL in Debian's headless Chromium as a user would and reports,
// as JSON on stdout, everything the page kept in the browser. The Go test
// httpapi/graphiql_browser_test.go runs it and makes the assertions.
//
// Environment: GRAPHIQL_URL (the page), SECRET (an API key to type into the
// Headers pane), OLD_SECRET (a key to plant where an earlier page version left
// one), QUERY (the operation to type), EXPECT (a string the first response
// must contain: proves the header was sent), CHROMIUM (default
// /usr/bin/chromium).
import { env as need, withBrowser } from './browser.mjs';

const env = (name) => need('leak.mjs', name);
const pageURL = env('GRAPHIQL_URL');
const secret = env('SECRET');
const oldSecret = env('OLD_SECRET');
const query = env('QUERY');
const expect = env('EXPECT');

const report = {};
const step = (s) => report.steps.push(s);

await withBrowser(report, async (context, page) => {
  // The CodeMirror editors of GraphiQL 4: .CodeMirror elements carry their
  // editor instance, which is how the script reads what they show.
  const queryCM = '.graphiql-query-editor .CodeMirror';
  const headersCM = '.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror';
  const responseCM = '.graphiql-response .CodeMirror';
  const value = (sel) => page.$eval(sel, (el) => el.CodeMirror.getValue()).catch(() => null);

  const ready = async () => {
    await page.waitForSelector(queryCM, { timeout: 30000 });
    await page.waitForSelector('.graphiql-execute-button', { timeout: 30000 });
  };
  const typeInto = async (sel, text) => {
    await page.click(sel);
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.type(text, { delay: 5 });
    await page.keyboard.press('Escape'); // closes an autocompletion popup
  };
  const run = async (wantInResponse) => {
    const before = await value(responseCM);
    await page.click('.graphiql-execute-button');
    await page.waitForFunction(
      ([sel, prev, want]) => {
        const el = document.querySelector(sel);
        const v = el && el.CodeMirror ? el.CodeMirror.getValue() : '';
        return v !== '' && v !== prev && (!want || v.includes(want));
      },
      [responseCM, before, wantInResponse],
      { timeout: 30000 },
    );
    return value(responseCM);
  };
  const openHeaders = async () => {
    if (await page.$(headersCM)) return;
    await page.click('.graphiql-editor-tools button:has-text("Headers")');
    await page.waitForSelector(headersCM, { timeout: 10000 });
  };

  // 1. A browser that used an earlier version of the page: that page left a
  //    key in its history, favourites and tabs. Plant it, then reload.
  await page.goto(pageURL);
  await ready();
  await page.evaluate((old) => {
    const headers = JSON.stringify({ Authorization: `Bearer ${old}` });
    const item = { query: '{ me { id } }', headers };
    localStorage.setItem('graphiql:queries', JSON.stringify({ queries: [item] }));
    localStorage.setItem('graphiql:favorites', JSON.stringify({ favorites: [{ ...item, favorite: true }] }));
    localStorage.setItem('graphiql:tabState', JSON.stringify({
      activeTabIndex: 0,
      tabs: [{ id: 'old', hash: 'old', title: 'old', query: '{ me { id } }', variables: null, headers, operationName: null, response: null }],
    }));
    localStorage.setItem('graphiql:headers', headers);
  }, oldSecret);
  step('planted an earlier page version\'s key');
  await page.reload();
  await ready();

  // 2. Type the key into the Headers pane and the query into the editor, as
  //    a user would, and run it.
  await openHeaders();
  await typeInto(headersCM, `{"Authorization": "Bearer ${secret}"}`);
  report.headersTyped = await value(headersCM);
  await typeInto(queryCM, query);
  report.queryTyped = await value(queryCM);
  report.firstResponse = await run(expect);
  step('ran the query with the key');

  // 3. Reload: nothing may bring the key back, neither the editors nor the
  //    history. Run again, then open the history and click every entry.
  await page.reload();
  await ready();
  await openHeaders();
  report.headersAfterReload = await value(headersCM);
  report.queryAfterReload = await value(queryCM);
  report.secondResponse = await run('');
  step('reloaded and ran again');
  report.historyHeaders = [];
  const historyButton = await page.$('button[aria-label="Show History"]');
  if (historyButton) {
    await historyButton.click();
    await page.waitForSelector('.graphiql-history', { timeout: 10000 });
    const items = await page.$$('.graphiql-history-item-label');
    for (const item of items) {
      await item.click();
      await openHeaders();
      report.historyHeaders.push(await value(headersCM));
    }
    step(`clicked ${items.length} history entries`);
  }

  // 4. Everything the origin keeps in the browser.
  report.storage = await page.evaluate(async () => {
    const dump = (s) => Object.fromEntries(Array.from({ length: s.length }, (_, i) => s.key(i)).map((k) => [k, s.getItem(k)]));
    const idb = {};
    for (const { name } of await indexedDB.databases()) {
      const db = await new Promise((ok, fail) => {
        const r = indexedDB.open(name);
        r.onsuccess = () => ok(r.result);
        r.onerror = () => fail(r.error);
      });
      idb[name] = {};
      for (const store of db.objectStoreNames) {
        idb[name][store] = await new Promise((ok, fail) => {
          const r = db.transaction(store).objectStore(store).getAll();
          r.onsuccess = () => ok(r.result);
          r.onerror = () => fail(r.error);
        });
      }
      db.close();
    }
    const cacheStorage = {};
    for (const name of await caches.keys()) {
      cacheStorage[name] = (await (await caches.open(name)).keys()).map((r) => r.url);
    }
    return {
      localStorage: dump(localStorage),
      sessionStorage: dump(sessionStorage),
      indexedDB: idb,
      documentCookie: document.cookie,
      cacheStorage,
    };
  });
  report.storage.cookies = await context.cookies();
}, { consoleTypes: ['error', 'warning'] });
