#!/usr/bin/env bash
# scripts/check-generated.sh - fails when `go tool gqlgen generate` would change
# the committed generated code (graph/ and resolvers/*.resolvers.go), or when
# rebuilding examples/dashboard (its TypeScript types generated from
# schema.graphql and its bundle) would change what is committed.
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."

snapshot() { find graph resolvers -type f -name '*.go' -print0 | sort -z | xargs -0 sha256sum; }
before=$(snapshot)
go tool gqlgen generate
after=$(snapshot)
if [[ $before != "$after" ]]; then
	echo "check-generated.sh: generated code was stale; 'go tool gqlgen generate' changed:" >&2
	diff <(echo "$before") <(echo "$after") >&2 || true
	echo "Run 'make generate' and commit the result." >&2
	exit 1
fi
echo "check-generated.sh: generated code is current" >&2

# The example dashboard: graphql-codegen's types from schema.graphql, the
# type check and the esbuild bundle, with the tools pinned in its
# package-lock.json (scripts/test.sh runs npm ci there). Without Node,
# TestDashboardBuildCurrent still compares the build's recorded inputs.
dashboard=examples/dashboard
if command -v npm >/dev/null && [[ -d $dashboard/node_modules ]]; then
	snapshot_dashboard() { find "$dashboard/src/generated" "$dashboard/dist" -type f -print0 | sort -z | xargs -0 sha256sum; }
	before=$(snapshot_dashboard)
	if ! (cd "$dashboard" && npm run --silent build >/dev/null); then
		echo "check-generated.sh: examples/dashboard does not build against schema.graphql (cd $dashboard && npm run build)" >&2
		exit 1
	fi
	after=$(snapshot_dashboard)
	if [[ $before != "$after" ]]; then
		echo "check-generated.sh: examples/dashboard was stale; 'npm run build' changed:" >&2
		diff <(echo "$before") <(echo "$after") >&2 || true
		echo "Run 'make dashboard' and commit the result." >&2
		exit 1
	fi
	echo "check-generated.sh: examples/dashboard is current" >&2
elif [[ ${CI:-} == true ]]; then
	echo "check-generated.sh: npm or examples/dashboard/node_modules is missing: the dashboard's build cannot be checked" >&2
	exit 1
else
	echo "check-generated.sh: npm or examples/dashboard/node_modules is missing: the dashboard's build is not rebuilt (make dashboard)" >&2
fi
