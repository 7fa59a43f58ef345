// Live events: the tenantEvents subscription over the graphql-transport-ws
// websocket of /graphql (graphql-ws's client). A same-origin websocket
// handshake carries the session cookie, which authenticates it; the server
// checks the session again every 2 seconds and closes the socket with 4403
// once it has ended.
import { createClient } from 'graphql-ws/client';
import { TenantEvents } from './api';
import type { TenantEventsSubscription } from './generated/graphql';

/** One event as the subscription (and the Dashboard query) selects it. */
export type LiveEvent = TenantEventsSubscription['tenantEvents'];

/** What the live connection is doing. */
export type LiveState = 'connecting' | 'connected' | 'ended';

/** The close code of a socket whose credential no longer authorises. */
const closeForbidden = 4403;

/**
 * follow subscribes to the tenant's events: onEvent gets each as it
 * commits, onState each change of the connection (onState('connected')
 * after every reconnection too, when events may have been missed). A lost
 * connection is retried with graphql-ws's back-off, except when the server
 * refused the credential (4403: the session ended, the tenant was
 * suspended): then onState('ended', reason, true). Returns the function
 * that stops.
 */
export function follow(onEvent: (e: LiveEvent) => void, onState: (s: LiveState, reason?: string, refused?: boolean) => void): () => void {
  const url = new URL('/graphql', location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const client = createClient({
    url: url.href,
    lazy: false,
    retryAttempts: Infinity,
    shouldRetry: (e) => !(e instanceof CloseEvent && e.code === closeForbidden),
    keepAlive: 30_000,
    on: {
      connecting: () => onState('connecting'),
      connected: () => onState('connected'),
    },
  });
  const stop = client.subscribe<TenantEventsSubscription>(
    { query: TenantEvents.document, operationName: TenantEvents.name },
    {
      next: (r) => {
        if (r.data) onEvent(r.data.tenantEvents);
        const err = r.errors?.[0];
        if (err) onState('ended', err.message);
      },
      error: (e) => {
        if (e instanceof CloseEvent) onState('ended', e.reason || `closed (${e.code})`, e.code === closeForbidden);
        else if (Array.isArray(e)) onState('ended', String(e[0]?.message ?? 'the subscription was refused')); // GraphQL errors
        else onState('ended', e instanceof Error ? e.message : 'the subscription failed');
      },
      complete: () => onState('ended', 'the server ended the subscription'),
    },
  );
  return () => {
    stop();
    void client.dispose();
  };
}
