#!/usr/bin/env bash
# scripts/test.sh - `make test`: formatting, vet, generated-code freshness and the
# whole test suite against a real PostgreSQL: TEST_DATABASE_URL when set (a
# superuser URL: tests create and drop their own databases), otherwise the
# private cluster of scripts/pg.sh.
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."

unformatted=$(gofmt -l .)
if [[ -n $unformatted ]]; then
	echo "test.sh: these files need gofmt:" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...
scripts/check-generated.sh

if [[ -z ${TEST_DATABASE_URL:-} ]]; then
	TEST_DATABASE_URL=$(scripts/pg.sh url)
fi
export TEST_DATABASE_URL

race=()
if [[ $(go env CGO_ENABLED) == 1 ]] && command -v gcc >/dev/null; then
	race=(-race)
fi
go test "${race[@]}" -count=1 -timeout 20m "$@" ./...
