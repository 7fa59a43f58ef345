// Bootstrap for the embedded GraphiQL IDE. It is a separate file, not an
// inline <script>, so the page's Content-Security-Policy can use
// script-src 'self'. The server passes its settings as data-* attributes on
// the #graphiql element. Adapted from gqlgen's graphql/playground page.
(function () {
  'use strict';

  // What GraphiQL may keep in localStorage: its UI preferences, nothing a
  // user typed or received. GraphiQL 4.1.2 (through its storage prop, under
  // "graphiql:") also saves the editors ("query", "variables", "headers",
  // "operationName"), the tabs ("tabState", with each tab's response) and the
  // history ("queries", "favorites"), and the history keeps each entry's
  // headers whatever shouldPersistHeaders says: the Authorization header, an
  // API key or the admin secret, stayed in localStorage and came back with
  // the history after a reload. Queries, variables and responses can carry
  // credentials too (enableSso's clientSecret, a webhookSecret, the secret
  // createApiKey returns), so all of that lives in memory, for the page's
  // lifetime only.
  const PERSISTED_KEYS = new Set([
    'graphiql:theme',
    'graphiql:editorFlex',
    'graphiql:secondaryEditorFlex',
    'graphiql:docExplorerFlex',
  ]);

  // localStorage, or null where the browser refuses it.
  function browserStorage() {
    try {
      return window.localStorage;
    } catch (e) {
      return null;
    }
  }

  // The storage handed to GraphiQL: PERSISTED_KEYS go to localStorage, every
  // other key to a Map that dies with the page.
  class CredentialSafeStorage {
    constructor() {
      this.memory = new Map();
      this.local = browserStorage();
      // Earlier versions of this page let GraphiQL save everything: wipe
      // what they left (history entries with an Authorization header).
      if (this.local) {
        try {
          const stale = [];
          for (let i = 0; i < this.local.length; i++) {
            const key = this.local.key(i);
            if (key !== null && key.startsWith('graphiql:') && !PERSISTED_KEYS.has(key)) {
              stale.push(key);
            }
          }
          stale.forEach((key) => this.local.removeItem(key));
        } catch (e) {
          // Storage refused: nothing of ours can be in it.
        }
      }
    }

    persisted(key) {
      return this.local !== null && PERSISTED_KEYS.has(key);
    }

    getItem(key) {
      if (this.persisted(key)) {
        try {
          return this.local.getItem(key);
        } catch (e) {
          return null;
        }
      }
      return this.memory.has(key) ? this.memory.get(key) : null;
    }

    setItem(key, value) {
      if (this.persisted(key)) {
        // Quota errors reach GraphiQL, which handles them.
        this.local.setItem(key, value);
        return;
      }
      this.memory.set(key, String(value));
    }

    removeItem(key) {
      if (this.persisted(key)) {
        try {
          this.local.removeItem(key);
        } catch (e) {
          // Nothing to remove from a refused storage.
        }
        return;
      }
      this.memory.delete(key);
    }

    keys() {
      const keys = Array.from(this.memory.keys());
      PERSISTED_KEYS.forEach((key) => {
        if (this.getItem(key) !== null) {
          keys.push(key);
        }
      });
      return keys;
    }

    clear() {
      this.keys().forEach((key) => this.removeItem(key));
    }

    get length() {
      return this.keys().length;
    }

    key(index) {
      const keys = this.keys();
      return index >= 0 && index < keys.length ? keys[index] : null;
    }
  }

  const container = document.getElementById('graphiql');
  const config = container.dataset;

  // GraphiQL's dialogs inject a <style> element (react-remove-scroll). It
  // takes its nonce from this global; the CSP allows only that nonce.
  if (config.styleNonce) {
    window.__webpack_nonce__ = config.styleNonce;
  }

  // The endpoint may be a path ("/graphql") or an absolute URL. The
  // subscription (graphql-ws) URL is the same location with a ws: or wss:
  // scheme, matching the page's own scheme for relative endpoints.
  const url = new URL(config.endpoint, location.href);
  const subscriptionUrl = new URL(url.href);
  subscriptionUrl.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';

  // A person signed in at the sign-in page holds the session in an
  // HttpOnly cookie, which fetch sends to this origin (credentials:
  // same-origin, its default) and which this script never sees. Requests
  // the cookie authenticates must carry X-Requested-With (the server's CSRF
  // defence); a header typed in the Headers pane still wins over the cookie.
  const sessionHeaders = { 'X-Requested-With': 'graphiql' };
  const fetcher = GraphiQL.createFetcher({
    url: url.href,
    subscriptionUrl: subscriptionUrl.href,
    headers: sessionHeaders,
  });

  // A POST of one operation to the endpoint with the session cookie.
  function post(query) {
    return fetch(url.href, {
      method: 'POST',
      credentials: 'same-origin',
      headers: Object.assign({ 'Content-Type': 'application/json', Accept: 'application/json' }, sessionHeaders),
      body: JSON.stringify({ query: query }),
    }).then((resp) => resp.json().catch(() => null));
  }

  // Top right, where GraphiQL shows its logo: who the session cookie signs
  // in, with "Sign out" (the logout mutation), or a "Sign in" link to the
  // sign-in page. A cookie that no longer signs in is refused and cleared
  // by the server, which shows "Sign in" too.
  const h = React.createElement;
  function SessionStatus() {
    const [member, setMember] = React.useState(undefined);
    React.useEffect(() => {
      let live = true;
      post('{ viewer { member { email role } } }')
        .then((body) => {
          const m = body && body.data && body.data.viewer && body.data.viewer.member;
          if (live) setMember(m || null);
        })
        .catch(() => live && setMember(null));
      return () => {
        live = false;
      };
    }, []);
    if (member === undefined) {
      return h('span', { className: 'session-status' });
    }
    if (member === null) {
      return h('span', { className: 'session-status' },
        h('a', { className: 'session-link', href: config.signin, id: 'session-signin' }, 'Sign in'));
    }
    const signOut = () => {
      post('mutation { logout { session { id } } }').finally(() => location.reload());
    };
    return h('span', { className: 'session-status' },
      h('span', { className: 'session-who', id: 'session-who' }, member.email + ' · ' + member.role),
      h('button', { type: 'button', className: 'session-link', id: 'session-signout', onClick: signOut }, 'Sign out'));
  }

  const plugins = [];
  if (typeof GraphiQLPluginExplorer !== 'undefined') {
    plugins.push(GraphiQLPluginExplorer.explorerPlugin());
  }

  const element = h(GraphiQL, {
    fetcher: fetcher,
    defaultQuery: config.defaultQuery,
    isHeadersEditorEnabled: true,
    // Open the Headers pane so the Authorization hint is easy to act on.
    defaultEditorToolsVisibility: 'headers',
    // Headers stay out of the tabs' state and the "Persist headers"
    // setting stays hidden; CredentialSafeStorage keeps them (and the
    // history's copies) out of the browser's storage anyway.
    shouldPersistHeaders: false,
    plugins: plugins,
    storage: new CredentialSafeStorage(),
    inputValueDeprecation: true,
  }, h(GraphiQL.Logo, null, h(SessionStatus)));

  if (typeof ReactDOM.createRoot === 'function') {
    ReactDOM.createRoot(container).render(element);
  } else {
    ReactDOM.render(element, container);
  }
})();
