// Bootstrap for the embedded GraphiQL IDE. It is a separate file, not an
// inline <script>, so the page's Content-Security-Policy can use
// script-src 'self'. The server passes its settings as data-* attributes on
// the #graphiql element. Adapted from gqlgen's graphql/playground page.
(function () {
  'use strict';

  class PrefixedStorage {
    constructor(prefix = '') {
      this.prefix = prefix;
    }

    _addPrefix(key) {
      return this.prefix + key;
    }

    _removePrefix(prefixedKey) {
      return prefixedKey.substring(this.prefix.length);
    }

    setItem(key, value) {
      localStorage.setItem(this._addPrefix(key), value);
    }

    getItem(key) {
      return localStorage.getItem(this._addPrefix(key));
    }

    removeItem(key) {
      localStorage.removeItem(this._addPrefix(key));
    }

    clear() {
      const keysToRemove = [];
      for (let i = 0; i < localStorage.length; i++) {
        const key = localStorage.key(i);
        if (key.startsWith(this.prefix)) {
          keysToRemove.push(key);
        }
      }
      keysToRemove.forEach((key) => localStorage.removeItem(key));
    }

    get length() {
      let count = 0;
      for (let i = 0; i < localStorage.length; i++) {
        if (localStorage.key(i).startsWith(this.prefix)) {
          count++;
        }
      }
      return count;
    }

    key(index) {
      const keys = [];
      for (let i = 0; i < localStorage.length; i++) {
        const key = localStorage.key(i);
        if (key.startsWith(this.prefix)) {
          keys.push(this._removePrefix(key));
        }
      }
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

  const fetcher = GraphiQL.createFetcher({
    url: url.href,
    subscriptionUrl: subscriptionUrl.href,
  });

  const plugins = [];
  if (typeof GraphiQLPluginExplorer !== 'undefined') {
    plugins.push(GraphiQLPluginExplorer.explorerPlugin());
  }

  const element = React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultQuery: config.defaultQuery,
    isHeadersEditorEnabled: true,
    // Open the Headers pane so the Authorization hint is easy to act on.
    defaultEditorToolsVisibility: 'headers',
    // Never write API keys or the admin secret to localStorage.
    shouldPersistHeaders: false,
    plugins: plugins,
    storage: new PrefixedStorage(config.storagePrefix || ''),
    inputValueDeprecation: true,
  });

  if (typeof ReactDOM.createRoot === 'function') {
    ReactDOM.createRoot(container).render(element);
  } else {
    ReactDOM.render(element, container);
  }
})();
