#!/usr/bin/env bash
# scripts/check-generated.sh - fails when `go tool gqlgen generate` would change
# the committed generated code (graph/ and resolvers/*.resolvers.go), or
# `go tool genqlient` the Go client generated from schema.graphql
# (client/generated.go; TestPublishedSchemaCurrent keeps schema.graphql current).
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."

snapshot() { find graph resolvers client -type f -name '*.go' -print0 | sort -z | xargs -0 sha256sum; }
before=$(snapshot)
go tool gqlgen generate
go tool genqlient client/genqlient.yaml
after=$(snapshot)
if [[ $before != "$after" ]]; then
	echo "check-generated.sh: generated code was stale; 'go tool gqlgen generate' or 'go tool genqlient client/genqlient.yaml' changed:" >&2
	diff <(echo "$before") <(echo "$after") >&2 || true
	echo "Run 'make generate' and commit the result." >&2
	exit 1
fi
echo "check-generated.sh: generated code is current" >&2
