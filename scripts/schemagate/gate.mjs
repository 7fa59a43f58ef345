// The breaking-change gate (make test): compares the last released schema
// with schema.graphql using graphql-js's findBreakingChanges, the reference
// implementation. A breaking change fails the gate unless CHANGELOG.md's
// [Unreleased] section names it: its description, as this script prints it
// (e.g. "Tenant.foo was removed."), anywhere in that section.
//
//   node scripts/schemagate/gate.mjs RELEASED.graphql schema.graphql CHANGELOG.md
//
// Exit status: 0 when there is nothing unlisted, 1 otherwise, 2 on bad input.
import { readFileSync } from "node:fs";
import { buildSchema, findBreakingChanges } from "graphql";

const [released, current, changelog] = process.argv.slice(2);
if (!released || !current || !changelog) {
  console.error("usage: gate.mjs RELEASED.graphql CURRENT.graphql CHANGELOG.md");
  process.exit(2);
}
const load = (path) => buildSchema(readFileSync(path, "utf8"), { assumeValidSDL: false });
let changes;
try {
  changes = findBreakingChanges(load(released), load(current));
} catch (err) {
  console.error(`schemagate: ${err.message}`);
  process.exit(2);
}
const text = readFileSync(changelog, "utf8");
const start = text.indexOf("## [Unreleased]");
const rest = start < 0 ? "" : text.slice(start);
const end = rest.search(/\n## \[/); // the next version's section
const unreleased = end < 0 ? rest : rest.slice(0, end);
const unlisted = changes.filter((c) => !unreleased.includes(c.description));
for (const c of changes) {
  console.log(`${unlisted.includes(c) ? "BREAKING, not in CHANGELOG.md" : "breaking, listed"}: ${c.type}: ${c.description}`);
}
if (unlisted.length > 0) {
  console.error(`schemagate: ${unlisted.length} breaking change(s) against ${released} that CHANGELOG.md's [Unreleased] section does not list; list each description there (under Changed or Removed, with what clients do instead) or undo the change`);
  process.exit(1);
}
console.log(`schemagate: ${changes.length} breaking change(s) against ${released}, all listed in CHANGELOG.md`);
