// The dashboard: one tenant as its signed-in member sees it. It asks the
// API who the browser is (Viewer); anonymous, it offers the sign-in page,
// which comes back here holding the session cookie; signed in, it reads
// everything in one query (Dashboard), follows the tenant's events over the
// tenantEvents subscription and reads again after each one, so the figures
// stay current without polling.
import './style.css';
import { Dashboard, errorAt, request, SignedOutError, SignOut, Viewer, type GraphQLError } from './api';
import type { DashboardQuery, ViewerQuery } from './generated/graphql';
import { follow, type LiveEvent, type LiveState } from './live';

type Tenant = DashboardQuery['me'];

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`dashboard: #${id} is missing from index.html`);
  return el as T;
};

/** el('td', {class: 'num'}, 'text', child) builds an element; text is never parsed as HTML. */
function el(tag: string, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const when = (iso: string | null): string => (iso ? dateTime.format(new Date(iso)) : '—');
const count = new Intl.NumberFormat();
const status = (s: string): HTMLElement => el('span', { class: `status ${s}` }, s);

function setState(state: 'loading' | 'signed-out' | 'ready' | 'error'): void {
  document.body.dataset['state'] = state;
}

function say(text: string): void {
  const m = $('message');
  m.textContent = text;
  m.hidden = text === '';
}

// ---- Sections ------------------------------------------------------------

/**
 * section shows a card's body, or the error the API gave at its path (a
 * role that may not read it gets FORBIDDEN there, and null).
 */
function section<T>(id: string, value: T | null, err: GraphQLError | undefined, render: (v: T) => void): void {
  const card = $(id);
  const errorEl = card.querySelector<HTMLElement>('.error');
  const body = card.querySelector<HTMLElement>('.body');
  if (!errorEl || !body) return;
  if (value === null) {
    errorEl.textContent = err ? err.message : 'Not available.';
    errorEl.dataset['code'] = err?.extensions?.code ?? '';
    errorEl.hidden = false;
    body.hidden = true;
    return;
  }
  errorEl.hidden = true;
  body.hidden = false;
  render(value);
}

function renderPlan(t: Tenant, errors: readonly GraphQLError[]): void {
  section('plan', t.plan, errorAt(errors, 'me', 'plan'), (plan) => {
    $('plan-name').textContent = plan.name;
    $('plan-name').dataset['planId'] = plan.id;
    const price = new Intl.NumberFormat(undefined, { style: 'currency', currency: plan.currency }).format(plan.monthlyPriceCents / 100);
    $('plan-price').textContent = `${price} a month`;
    $('plan-rate').textContent = t.limits ? `${count.format(t.limits.apiRequestsPerMinute)} API requests a minute` : '';
  });
}

function renderUsage(t: Tenant, errors: readonly GraphQLError[]): void {
  const both = t.usage && t.limits ? { usage: t.usage, limits: t.limits } : null;
  section('usage', both, errorAt(errors, 'me', 'usage') ?? errorAt(errors, 'me', 'limits'), ({ usage, limits }) => {
    const meters: [string, string, number, number | null][] = [
      ['activeUsers', 'Active users', usage.activeUsers, limits.users],
      ['policies', 'Policies', usage.policies, limits.policies],
      ['interactions', 'Interactions', usage.interactionsThisMonth, limits.interactionsPerMonth],
    ];
    $('meters').replaceChildren(
      ...meters.map(([key, label, used, limit]) => {
        const meter = el('meter', { min: '0', value: String(used) }) as HTMLMeterElement;
        if (limit !== null) {
          meter.max = Math.max(limit, 1);
          meter.low = limit * 0.8;
          meter.high = limit * 0.95;
          meter.optimum = 0;
        } else {
          meter.max = Math.max(used, 1);
        }
        const figure = limit === null ? `${count.format(used)} (unlimited)` : `${count.format(used)} / ${count.format(limit)}`;
        return el('div', { class: 'meter', 'data-usage': key, 'data-used': String(used), 'data-limit': limit === null ? '' : String(limit) },
          el('span', {}, label), meter, el('span', { class: 'figure' }, figure));
      }),
    );
  });
}

function renderInvoices(t: Tenant, errors: readonly GraphQLError[]): void {
  section('invoices', t.invoices, errorAt(errors, 'me', 'invoices'), (invoices) => {
    $('invoices-count').textContent = `(${count.format(invoices.totalCount)})`;
    $('invoices-count').dataset['total'] = String(invoices.totalCount);
    $('invoice-rows').replaceChildren(
      ...invoices.nodes.map((inv) =>
        el('tr', { 'data-invoice-id': inv.id },
          el('td', {}, inv.number), el('td', {}, inv.date), el('td', {}, inv.dueDate), el('td', {}, status(inv.status)),
          el('td', { class: 'num' }, inv.amount.formatted),
          // pdfUrl: this origin's /invoices/<id>.pdf, which the session
          // cookie authenticates like /graphql; it does not expire, unlike
          // signedPdfUrl (for sharing without a session).
          el('td', {}, el('a', { href: inv.pdfUrl, target: '_blank', rel: 'noopener', 'data-pdf': '' }, 'PDF'))),
      ),
    );
    empty('invoices', invoices.nodes.length === 0);
  });
}

function renderApiKeys(t: Tenant, errors: readonly GraphQLError[]): void {
  section('api-keys', t.apiKeys, errorAt(errors, 'me', 'apiKeys'), (keys) => {
    $('api-keys-count').textContent = `(${count.format(keys.totalCount)} active)`;
    $('api-keys-count').dataset['total'] = String(keys.totalCount);
    $('api-key-rows').replaceChildren(
      ...keys.nodes.map((k) =>
        el('tr', { 'data-api-key-id': k.id },
          el('td', { 'data-name': '' }, k.name), el('td', {}, el('code', {}, k.prefix)), el('td', {}, status(k.status)),
          el('td', {}, when(k.createdAt)), el('td', {}, when(k.lastUsedAt)), el('td', {}, when(k.expiresAt)))),
    );
    empty('api-keys', keys.nodes.length === 0);
  });
}

function renderMembers(t: Tenant, errors: readonly GraphQLError[]): void {
  section('members', t.members, errorAt(errors, 'me', 'members'), (members) => {
    $('members-count').textContent = `(${count.format(members.totalCount)})`;
    $('members-count').dataset['total'] = String(members.totalCount);
    $('member-rows').replaceChildren(
      ...members.nodes.map((m) =>
        el('tr', { 'data-member-id': m.id },
          el('td', { 'data-email': '' }, m.email), el('td', {}, m.name), el('td', {}, m.role), el('td', {}, status(m.status)))),
    );
  });
}

function empty(id: string, isEmpty: boolean): void {
  const p = $(id).querySelector<HTMLElement>('.empty');
  if (p) p.hidden = !isEmpty;
}

// ---- Events --------------------------------------------------------------

/** Events shown, by id; live marks those the subscription delivered. */
const events = new Map<string, { event: LiveEvent; live: boolean }>();
const maxEvents = 50;

function addEvents(list: readonly LiveEvent[], live: boolean): void {
  for (const event of list) {
    const had = events.get(event.id);
    events.set(event.id, { event, live: live || (had?.live ?? false) });
  }
  // Event ids are UUIDv7: sorting them sorts by time. Newest first.
  const ids = [...events.keys()].sort().reverse();
  for (const id of ids.slice(maxEvents)) events.delete(id);
  $('event-rows').replaceChildren(
    ...ids.slice(0, maxEvents).map((id) => {
      const { event, live: isLive } = events.get(id)!;
      return el('li', { 'data-event-id': event.id, 'data-wire-type': event.wireType, 'data-live': String(isLive) },
        el('time', { datetime: event.at }, when(event.at)), el('code', {}, event.wireType),
        el('span', { class: 'actor' }, `${event.action || '—'} by ${event.actor}`));
    }),
  );
  empty('events', events.size === 0);
}

function renderEvents(t: Tenant, errors: readonly GraphQLError[]): void {
  section('events', t.events, errorAt(errors, 'me', 'events'), (page) => addEvents(page.nodes, false));
}

function setLive(state: LiveState, reason?: string): void {
  const badge = $('live');
  badge.dataset['live'] = state;
  badge.textContent = state === 'connected' ? 'live' : state === 'connecting' ? 'connecting…' : 'not live';
  badge.title = reason ?? '';
  if (state === 'connected') scheduleRefresh(); // catch up with what a reconnection missed
}

// ---- Loading -------------------------------------------------------------

let stopLive: (() => void) | null = null;

function renderWho(viewer: ViewerQuery['viewer']): void {
  const m = viewer.member;
  $('who').textContent = m ? `${m.email} · ${m.role}` : viewer.kind;
  $('sign-out').hidden = !m;
}

function showSignedOut(reason?: string): void {
  stopLive?.();
  stopLive = null;
  $('dashboard').hidden = true;
  $('sign-out').hidden = true;
  $('who').textContent = '';
  const link = $<HTMLAnchorElement>('sign-in');
  link.href = `/signin?return_to=${encodeURIComponent(location.pathname)}`;
  $('signed-out').hidden = false;
  say(reason ?? '');
  setState('signed-out');
}

async function refresh(): Promise<void> {
  const { data, errors } = await request(Dashboard, {});
  if (!data) {
    throw new Error(errors[0]?.message ?? 'The API returned nothing.');
  }
  const t = data.me;
  $('tenant-name').textContent = t.name;
  $('tenant-domain').textContent = `${t.domain} · ${t.status}`;
  document.title = `${t.name} · Dashboard`;
  renderPlan(t, errors);
  renderUsage(t, errors);
  renderInvoices(t, errors);
  renderApiKeys(t, errors);
  renderMembers(t, errors);
  renderEvents(t, errors);
}

// Live events ask for a refresh; a burst is read once, and an event
// arriving during a read asks for one more.
let refreshTimer: number | undefined;
let refreshing = false;
let again = false;

function scheduleRefresh(): void {
  if (refreshing) {
    again = true;
    return;
  }
  if (refreshTimer !== undefined) return;
  refreshTimer = window.setTimeout(async () => {
    refreshTimer = undefined;
    refreshing = true;
    try {
      await refresh();
    } catch (e) {
      failed(e);
    } finally {
      refreshing = false;
      if (again) {
        again = false;
        scheduleRefresh();
      }
    }
  }, 150);
}

function failed(e: unknown): void {
  if (e instanceof SignedOutError) {
    showSignedOut(e.message);
    return;
  }
  say(e instanceof Error ? e.message : String(e));
}

/** After the server refused the live socket: signed out, or something else (the tenant suspended)? */
async function stillSignedIn(reason?: string): Promise<void> {
  try {
    const { data } = await request(Viewer, {});
    if (data?.viewer.kind === 'ANONYMOUS') showSignedOut(reason);
  } catch (e) {
    failed(e);
  }
}

async function start(): Promise<void> {
  setState('loading');
  const { data } = await request(Viewer, {});
  const viewer = data?.viewer;
  if (!viewer || viewer.kind === 'ANONYMOUS') {
    showSignedOut();
    return;
  }
  renderWho(viewer);
  await refresh();
  $('dashboard').hidden = false;
  $('signed-out').hidden = true;
  setState('ready');
  if (!viewer.permissions.includes('EVENTS_READ')) {
    setLive('ended', 'Your role cannot read events (EVENTS_READ).');
    return;
  }
  stopLive = follow(
    (event) => {
      addEvents([event], true);
      scheduleRefresh();
    },
    (state, reason, refused) => {
      setLive(state, reason);
      if (refused) void stillSignedIn(reason);
    },
  );
}

$('sign-out').addEventListener('click', async () => {
  stopLive?.();
  stopLive = null;
  try {
    await request(SignOut, {});
  } catch (e) {
    if (!(e instanceof SignedOutError)) failed(e);
  }
  showSignedOut();
});

start().catch((e: unknown) => {
  failed(e);
  if (document.body.dataset['state'] === 'loading') setState('error');
});
