// The sign-in page (graphiql/signin.go). A separate file, not an inline
// <script>, so the page's Content-Security-Policy can use script-src 'self'.
// Step 1 asks the server how the email's domain signs in, in each
// environment (a domain has up to one tenant per environment: development,
// QA, production); step 2 lets the person choose the environment
// (production unless ?environment= says otherwise) and signs in with a
// password (the login mutation with cookie: true: the session goes
// into an HttpOnly cookie this script never sees) or continues with SSO (the
// tenant's login URL, which comes back with the session cookie). Both end
// on return_to, GraphiQL by default.
(function () {
  'use strict';

  const form = document.getElementById('signin');
  const email = document.getElementById('email');
  const environmentStep = document.getElementById('environment-step');
  const environment = document.getElementById('environment');
  const passwordStep = document.getElementById('password-step');
  const password = document.getElementById('password');
  const continueButton = document.getElementById('continue');
  const or = document.getElementById('or');
  const ssoButton = document.getElementById('sso');
  const message = document.getElementById('message');
  const endpoint = form.dataset.endpoint;
  const methodsURL = form.dataset.methods;

  // Where to land: a same-origin path from ?return_to=, else GraphiQL. The
  // server checks return_to again at the end of an SSO login.
  const returnTo = (function () {
    const v = new URLSearchParams(location.search).get('return_to') || '';
    return /^\/(?![/\\])[^\s]*$/.test(v) ? v : '/';
  })();

  // The environment asked for by ?environment=, else the server's default.
  const wantedEnvironment = (new URLSearchParams(location.search).get('environment') || '').toUpperCase();
  const environmentNames = { DEVELOPMENT: 'Development', QA: 'QA', PRODUCTION: 'Production' };

  let answer = null; // the server's answer for the current email
  let methods = null; // its entry for the chosen environment
  let busy = false;

  function say(text) {
    message.textContent = text || '';
  }

  function reset() {
    answer = null;
    methods = null;
    environmentStep.hidden = true;
    environment.replaceChildren();
    passwordStep.hidden = true;
    or.hidden = true;
    ssoButton.hidden = true;
    continueButton.hidden = false;
    continueButton.textContent = 'Continue';
    say('');
  }

  // offer lists the environments of the answer a, chooses the one asked
  // for (or the server's default) and shows its methods.
  function offer(a) {
    answer = a;
    const list = a.environments && a.environments.length ? a.environments : [a];
    environment.replaceChildren();
    for (const e of list) {
      const o = document.createElement('option');
      o.value = e.environment || '';
      o.textContent = environmentNames[e.environment] || e.environment || 'Default';
      environment.appendChild(o);
    }
    const chosen = list.find((e) => e.environment === wantedEnvironment) || list.find((e) => e.environment === a.environment) || list[0];
    environment.value = chosen.environment || '';
    environmentStep.hidden = !a.environments;
    show(chosen);
  }

  function show(m) {
    methods = m;
    passwordStep.hidden = !m.password;
    ssoButton.hidden = !m.sso;
    or.hidden = !(m.password && m.sso);
    continueButton.hidden = !m.password;
    continueButton.textContent = 'Sign in';
    if (m.password) {
      password.focus();
    } else if (m.sso) {
      ssoButton.focus();
    }
  }

  async function askMethods(address) {
    const resp = await fetch(methodsURL + '?email=' + encodeURIComponent(address), {
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
    });
    const body = await resp.json().catch(() => ({}));
    if (!resp.ok) {
      throw new Error(body.error || (body.errors && body.errors[0] && body.errors[0].message) || 'The server answered ' + resp.status + '.');
    }
    return body;
  }

  const loginMutation = 'mutation SignIn($in: LoginInput!) { login(input: $in) { member { email } } }';

  async function login(address, secret, retried) {
    const resp = await fetch(endpoint, {
      method: 'POST',
      credentials: 'same-origin',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/graphql-response+json, application/json',
        // Requests that carry the session cookie need it (CSRF defence).
        'X-Requested-With': 'signin',
      },
      body: JSON.stringify({
        query: loginMutation,
        operationName: 'SignIn',
        variables: { in: { email: address, password: secret, cookie: true, environment: methods.environment || null } },
      }),
    });
    // A session cookie that has expired is refused (401) and cleared by
    // that answer: sign in again without it.
    if (resp.status === 401 && !retried) {
      return login(address, secret, true);
    }
    const body = await resp.json().catch(() => null);
    if (body && body.errors && body.errors.length) {
      throw new Error(body.errors[0].message);
    }
    if (!resp.ok || !body || !body.data || !body.data.login) {
      throw new Error('The server answered ' + resp.status + '.');
    }
  }

  email.addEventListener('input', () => {
    if (methods) reset();
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    const address = email.value.trim();
    if (!/^[^@\s]+@[^@\s]+$/.test(address)) {
      say('Enter your email address, such as ana@acme.fr.');
      email.focus();
      return;
    }
    busy = true;
    say('');
    try {
      if (!methods) {
        offer(await askMethods(address));
      } else if (methods.password) {
        if (!password.value) {
          say('Enter your password.');
          password.focus();
          return;
        }
        await login(address, password.value);
        password.value = '';
        say('Signed in.');
        location.assign(returnTo);
      }
    } catch (e) {
      say(e.message);
    } finally {
      busy = false;
    }
  });

  environment.addEventListener('change', () => {
    if (!answer) return;
    const m = (answer.environments || []).find((e) => e.environment === environment.value);
    if (m) {
      say('');
      show(m);
    }
  });

  ssoButton.addEventListener('click', () => {
    if (!methods || !methods.sso) return;
    const url = new URL(methods.sso, location.href);
    url.searchParams.set('return_to', returnTo);
    location.assign(url.href);
  });
})();
