#!/usr/bin/env bash
# scripts/check-generated.sh - fails when `go tool gqlgen generate` would change
# the committed generated code (graph/ and resolvers/*.resolvers.go), or
# `go tool genqlient` the Go client generated from schema.graphql
# (client/generated.go; TestPublishedSchemaCurrent keeps schema.graphql
# current), or when rebuilding examples/dashboard (its TypeScript types generated from
# schema.graphql and its bundle) would change what is committed.
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."

# unchanged WHAT FIX DIR... -- GENERATOR...: runs GENERATOR and fails, saying
# to run FIX, when it changes a file below the DIRs.
unchanged() {
	local what=$1 fix=$2 dirs=()
	shift 2
	while [[ $1 != -- ]]; do dirs+=("$1"); shift; done
	shift
	snapshot() { find "${dirs[@]}" -type f -print0 | sort -z | xargs -0 sha256sum; }
	local before after
	before=$(snapshot)
	if ! "$@" >/dev/null; then
		echo "check-generated.sh: $what does not generate ($*)" >&2
		exit 1
	fi
	after=$(snapshot)
	if [[ $before != "$after" ]]; then
		echo "check-generated.sh: $what was stale; '$*' changed:" >&2
		diff <(echo "$before") <(echo "$after") >&2 || true
		echo "Run '$fix' and commit the result." >&2
		exit 1
	fi
	echo "check-generated.sh: $what is current" >&2
}

unchanged "generated code" "make generate" graph resolvers -- go tool gqlgen generate
unchanged "the Go client" "make generate" client -- go tool genqlient client/genqlient.yaml

# The example dashboard: graphql-codegen's types from schema.graphql, the
# type check and the esbuild bundle, with the tools pinned in its
# package-lock.json (scripts/test.sh runs npm ci there). Without Node,
# TestDashboardBuildCurrent still compares the build's recorded inputs.
dashboard=examples/dashboard
if command -v npm >/dev/null && [[ -d $dashboard/node_modules ]]; then
	unchanged "examples/dashboard" "make dashboard" "$dashboard/src/generated" "$dashboard/dist" -- \
		npm --prefix "$dashboard" run --silent build
elif [[ ${CI:-} == true ]]; then
	echo "check-generated.sh: npm or $dashboard/node_modules is missing: the dashboard's build cannot be checked" >&2
	exit 1
else
	echo "check-generated.sh: npm or $dashboard/node_modules is missing: the dashboard is not rebuilt and compared (make dashboard)" >&2
fi
