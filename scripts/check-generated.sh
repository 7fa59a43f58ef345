#!/usr/bin/env bash
# scripts/check-generated.sh - fails when `go tool gqlgen generate` would change
# the committed generated code (graph/ and resolvers/*.resolvers.go).
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
