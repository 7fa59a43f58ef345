// The dashboard's only way to the server: the public GraphQL API at
// /graphql, on this origin, authenticated by the session cookie that the
// sign-in page (/signin) set. The cookie is HttpOnly: this code never sees
// it. Requests the cookie authenticates must carry X-Requested-With (the
// server's CSRF defence, docs/members.md).
import type {
  DashboardQuery,
  DashboardQueryVariables,
  SignOutMutation,
  SignOutMutationVariables,
  TenantEventsSubscription,
  TenantEventsSubscriptionVariables,
  ViewerQuery,
  ViewerQueryVariables,
} from './generated/graphql';
import dashboardDocument from './operations/dashboard.graphql';
import signOutDocument from './operations/signOut.graphql';
import tenantEventsDocument from './operations/tenantEvents.graphql';
import viewerDocument from './operations/viewer.graphql';

/** The GraphQL endpoint, on this origin. */
export const endpoint = '/graphql';

/**
 * An operation: its document (a file of src/operations, bundled as text)
 * and name, tied to the types graphql-codegen generated for its result and
 * variables, so that request() returns the right type.
 */
export interface Operation<TData, TVariables> {
  readonly name: string;
  readonly document: string;
  /** Never set: carries the types. */
  readonly types?: (variables: TVariables) => TData;
}

function operation<TData, TVariables>(name: string, document: string): Operation<TData, TVariables> {
  return { name, document };
}

export const Viewer = operation<ViewerQuery, ViewerQueryVariables>('Viewer', viewerDocument);
export const Dashboard = operation<DashboardQuery, DashboardQueryVariables>('Dashboard', dashboardDocument);
export const SignOut = operation<SignOutMutation, SignOutMutationVariables>('SignOut', signOutDocument);
export const TenantEvents = operation<TenantEventsSubscription, TenantEventsSubscriptionVariables>('TenantEvents', tenantEventsDocument);

/** A GraphQL error as the server reports it (docs/errors.md). */
export interface GraphQLError {
  readonly message: string;
  readonly path?: readonly (string | number)[];
  readonly extensions?: { readonly code?: string; readonly field?: string };
}

/** A response: data (null when nothing could run) and the errors. */
export interface Result<TData> {
  readonly data: TData | null;
  readonly errors: readonly GraphQLError[];
}

/** The session is missing or over (HTTP 401): sign in again. */
export class SignedOutError extends Error {}

/**
 * POSTs op with variables and returns the response. HTTP 401 (a cookie
 * whose session ended: the server clears it in that answer) throws
 * SignedOutError; an answer that is not GraphQL throws Error.
 */
export async function request<TData, TVariables>(op: Operation<TData, TVariables>, variables: TVariables): Promise<Result<TData>> {
  const resp = await fetch(endpoint, {
    method: 'POST',
    credentials: 'same-origin',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/graphql-response+json, application/json',
      'X-Requested-With': 'dashboard',
    },
    body: JSON.stringify({ query: op.document, operationName: op.name, variables }),
  });
  if (resp.status === 401) {
    throw new SignedOutError('Your session has ended: sign in again.');
  }
  const body: unknown = await resp.json().catch(() => null);
  if (!isResponse(body)) {
    throw new Error(`The API answered HTTP ${resp.status} without a GraphQL response.`);
  }
  const errors = body.errors ?? [];
  if (!('data' in body) || body.data == null) {
    if (errors.length === 0) throw new Error(`The API answered HTTP ${resp.status} with no data.`);
    return { data: null, errors };
  }
  return { data: body.data as TData, errors };
}

function isResponse(v: unknown): v is { data?: unknown; errors?: GraphQLError[] } {
  return typeof v === 'object' && v !== null && ('data' in v || 'errors' in v);
}

/** The first error at path or below it (["me", "invoices"]), if any. */
export function errorAt(errors: readonly GraphQLError[], ...path: string[]): GraphQLError | undefined {
  return errors.find((e) => e.path !== undefined && path.every((p, i) => e.path?.[i] === p));
}
