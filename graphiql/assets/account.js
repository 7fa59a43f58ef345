// The pages emailed links open (graphiql/account.go): /accept-invitation
// and /reset-password, the token in the URL's fragment (#token=…), which
// the browser never sends to a server, so it reaches no log. Accepting an
// invitation signs in (acceptInvitation with cookie: true: the session goes
// into an HttpOnly cookie this script never sees) and lands in GraphiQL;
// a reset ends every session and sends the person to the sign-in page.
(function () {
  'use strict';

  const form = document.getElementById('account');
  const mode = form.dataset.mode; // "invitation" or "reset"
  const endpoint = form.dataset.endpoint;
  const name = document.getElementById('name');
  const password = document.getElementById('password');
  const message = document.getElementById('message');
  const done = document.getElementById('done');
  const token = new URLSearchParams(location.hash.slice(1)).get('token') || '';
  let busy = false;

  function say(text) {
    message.textContent = text || '';
  }

  if (!token) {
    say('This link has no token: open the link from the email again.');
  }

  const mutations = {
    invitation: 'mutation Accept($in: AcceptInvitationInput!) { acceptInvitation(input: $in) { member { email } } }',
    reset: 'mutation Reset($in: ResetPasswordInput!) { resetPassword(input: $in) { member { email } } }',
  };

  async function send(input, retried) {
    const resp = await fetch(endpoint, {
      method: 'POST',
      credentials: 'same-origin',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/graphql-response+json, application/json',
        'X-Requested-With': 'account',
      },
      body: JSON.stringify({ query: mutations[mode], variables: { in: input } }),
    });
    // An expired session cookie is refused (401) and cleared: try again.
    if (resp.status === 401 && !retried) {
      return send(input, true);
    }
    const body = await resp.json().catch(() => null);
    if (body && body.errors && body.errors.length) {
      throw new Error(body.errors[0].message);
    }
    if (!resp.ok || !body || !body.data) {
      throw new Error('The server answered ' + resp.status + '.');
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy || !token) return;
    if (mode === 'invitation' && !name.value.trim()) {
      say('Enter your name.');
      name.focus();
      return;
    }
    if (password.value.length < 12) {
      say('Choose a password of 12 to 128 characters.');
      password.focus();
      return;
    }
    busy = true;
    say('');
    try {
      if (mode === 'invitation') {
        await send({ token: token, name: name.value.trim(), password: password.value, cookie: true });
        password.value = '';
        location.assign('/');
      } else {
        await send({ token: token, password: password.value });
        password.value = '';
        form.hidden = true;
        done.hidden = false;
      }
    } catch (e) {
      say(e.message);
    } finally {
      busy = false;
    }
  });
})();
