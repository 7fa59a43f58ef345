// The GraphQL-over-HTTP audit of make test: graphql-http's serverAudits
// (the reference implementation's checks of the GraphQL over HTTP draft)
// against a running server. Usage: node audit.mjs URL [API_KEY]
// It prints one line per audit and exits 1 unless every audit is ok.
import { auditServer } from 'graphql-http';

const [url, key] = process.argv.slice(2);
if (!url) {
  console.error('usage: node audit.mjs URL [API_KEY]');
  process.exit(2);
}
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  if (key) headers.set('authorization', `Bearer ${key}`);
  return fetch(input, { ...init, headers });
};
const results = await auditServer({ url, fetchFn });
let ok = 0;
for (const r of results) {
  if (r.status === 'ok') ok++;
  const why = r.status === 'ok' ? '' : `: ${r.reason}`;
  console.log(`${r.status.padEnd(6)} ${r.id} ${r.name}${why}`);
}
console.log(`${ok} of ${results.length} ok`);
process.exit(ok === results.length ? 0 : 1);
