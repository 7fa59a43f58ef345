// Signs in at the sign-in page in Debian's headless Chromium, as a person
// would, and runs a query in GraphiQL with the session it lands with;
// reports, as JSON on stdout, what it saw. The Go test
// httpapi/signin_browser_test.go runs it and makes the assertions.
//
// Environment: SIGNIN_URL (the sign-in page), EMAIL; PASSWORD to sign in
// with a password, or none to click "Continue with SSO" (the loopback test
// identity provider approves at once); QUERY (the operation to type into
// GraphiQL), EXPECT (a string the response must contain), CHROMIUM (default
// /usr/bin/chromium); ENVIRONMENT (DEVELOPMENT, QA or PRODUCTION) to choose
// in the page's environment list before signing in. With START_URL (an emailed invitation link), the
// person opens it instead, types NAME and PASSWORD and accepts.
import { env as need, isLoopback, withBrowser } from './browser.mjs';

const env = (name) => need('signin.mjs', name);
const signInURL = env('SIGNIN_URL');
const email = env('EMAIL');
const password = process.env.PASSWORD || '';
const startURL = process.env.START_URL || '';
const query = env('QUERY');
const expect = env('EXPECT');
const environment = process.env.ENVIRONMENT || '';

const report = {};
const step = (s) => report.steps.push(s);

// The test identity provider serves HTTPS with a certificate of its own.
await withBrowser(report, async (context, page) => {
  // 1. The sign-in page: the email, then what the server says its domain
  //    signs in with.
  if (startURL) {
    // 1'. The invitation link: a name and a password, then GraphiQL.
    await page.goto(startURL);
    await page.fill('#name', process.env.NAME || 'Invited Person');
    await page.fill('#password', password);
    await Promise.all([page.waitForURL((u) => u.pathname === '/', { timeout: 30000 }), page.click('#submit')]);
    step('accepted the invitation');
  } else {
  await page.goto(signInURL);
  await page.fill('#email', email);
  await page.click('#continue');
  // The environments the page offers (every one, whatever the domain
  // has), and the one chosen unless ENVIRONMENT says otherwise.
  await page.waitForSelector('#environment', { state: 'visible', timeout: 10000 });
  report.environments = await page.$$eval('#environment option', (os) => os.map((o) => o.value));
  report.defaultEnvironment = await page.inputValue('#environment');
  if (environment) {
    await page.selectOption('#environment', environment);
    step(`chose ${environment}`);
  }
  }
  if (startURL) {
    // signed in by accepting
  } else if (password) {
    await page.waitForSelector('#password', { state: 'visible', timeout: 10000 });
    report.ssoOffered = await page.isVisible('#sso');
    step('the password field is shown');
    await page.fill('#password', password);
    await Promise.all([page.waitForURL((u) => u.pathname === '/', { timeout: 30000 }), page.click('#continue')]);
    step('signed in with the password');
  } else {
    await page.waitForSelector('#sso', { state: 'visible', timeout: 10000 });
    report.passwordOffered = await page.isVisible('#password');
    step('the SSO button is shown');
    await Promise.all([page.waitForURL((u) => u.pathname === '/' && isLoopback(u.href), { timeout: 30000 }), page.click('#sso')]);
    step('came back from the identity provider');
  }
  report.landedAt = page.url();

  // 2. GraphiQL, holding the session: it says who is signed in, and a
  //    query typed into it runs as that member, with no key pasted.
  const queryCM = '.graphiql-query-editor .CodeMirror';
  const responseCM = '.graphiql-response .CodeMirror';
  const value = (sel) => page.$eval(sel, (el) => el.CodeMirror.getValue()).catch(() => null);
  await page.waitForSelector(queryCM, { timeout: 30000 });
  await page.waitForSelector('.graphiql-execute-button', { timeout: 30000 });
  await page.waitForSelector('#session-who', { timeout: 10000 });
  report.sessionStatus = await page.textContent('#session-who');
  await page.click(queryCM);
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(query, { delay: 5 });
  await page.keyboard.press('Escape');
  await page.click('.graphiql-execute-button');
  await page.waitForFunction(
    ([sel, want]) => {
      const el = document.querySelector(sel);
      const v = el && el.CodeMirror ? el.CodeMirror.getValue() : '';
      return v.includes(want) || v.includes('"errors"');
    },
    [responseCM, expect],
    { timeout: 30000 },
  );
  report.response = await value(responseCM);
  step('ran the query in GraphiQL');
  report.documentCookie = await page.evaluate(() => document.cookie);
  report.cookies = (await context.cookies()).map((c) => ({ name: c.name, httpOnly: c.httpOnly, secure: c.secure, sameSite: c.sameSite }));

  // 3. Sign out: the logout mutation ends the session and GraphiQL offers
  //    "Sign in" again.
  await page.click('#session-signout');
  await page.waitForSelector('#session-signin', { timeout: 15000 });
  report.cookiesAfterSignOut = (await context.cookies()).map((c) => c.name);
  step('signed out');
}, { ignoreHTTPSErrors: true });
