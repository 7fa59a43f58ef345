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
go tool staticcheck ./...   # honnef.co/go/tools, pinned in go.mod's tool block
go vet -tags benchceiling ./db   # the benchmark's ceiling build (docs/benchmarks.md) keeps compiling

# The browser tests (GraphiQL, the sign-in page, the example dashboard) drive
# Debian's Chromium (/usr/bin/chromium) with the playwright-core pinned in
# graphiql/browsertest; nothing downloads a browser. As root with apt-get, install what is missing; otherwise that test
# skips, saying what to install (with CI=true it fails instead).
apt_install() { # packages...
	[[ $(id -u) == 0 ]] && command -v apt-get >/dev/null || return 1
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends "$@" >/dev/null ||
		{ apt-get update >/dev/null && apt-get install -y --no-install-recommends "$@" >/dev/null; }
}
if [[ ! -x /usr/bin/chromium ]]; then
	apt_install chromium || echo "test.sh: could not install chromium: the browser tests will skip" >&2
fi
# PgBouncer in transaction mode in front of the test PostgreSQL
# (scaleout.TestPgBouncer, docs/scaling.md): Debian's pgbouncer, in /usr/sbin.
if ! command -v pgbouncer >/dev/null && [[ ! -x /usr/sbin/pgbouncer ]]; then
	apt_install pgbouncer || echo "test.sh: could not install pgbouncer: the PgBouncer tests will skip" >&2
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	apt_install nodejs npm || echo "test.sh: could not install node and npm: the browser tests will skip" >&2
fi
browsertest=graphiql/browsertest
if command -v npm >/dev/null && [[ ! $browsertest/node_modules/.package-lock.json -nt $browsertest/package-lock.json ]]; then
	(cd "$browsertest" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi
# The example dashboard's build tools (graphql-codegen, TypeScript, esbuild),
# so that check-generated.sh can rebuild it and compare.
dashboard=examples/dashboard
if command -v npm >/dev/null && [[ ! $dashboard/node_modules/.package-lock.json -nt $dashboard/package-lock.json ]]; then
	(cd "$dashboard" && npm ci --no-audit --no-fund --loglevel=error)
fi
scripts/check-generated.sh

# The breaking-change gate: schema.graphql against the last release's (the
# newest v* tag), with graphql-js's findBreakingChanges; every breaking change
# must be listed in CHANGELOG.md's [Unreleased] section (scripts/schemagate).
# The GraphQL-over-HTTP audit (TestGraphQLOverHTTPAudit) uses graphql-http's
# serverAudits from scripts/httpaudit.
for dir in scripts/schemagate scripts/httpaudit; do
	if command -v npm >/dev/null && [[ ! $dir/node_modules/.package-lock.json -nt $dir/package-lock.json ]]; then
		(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
	fi
done
schemagate=scripts/schemagate
if release=$(git describe --tags --abbrev=0 --match 'v*' 2>/dev/null); then
	if command -v node >/dev/null; then
		mkdir -p .data
		git show "$release:schema.graphql" >.data/released.graphql
		node "$schemagate/gate.mjs" .data/released.graphql schema.graphql CHANGELOG.md
	elif [[ ${CI:-} == true ]]; then
		echo "test.sh: node is missing: the breaking-change gate cannot run" >&2
		exit 1
	else
		echo "test.sh: node is missing: the breaking-change gate skips (apt-get install nodejs npm)" >&2
	fi
else
	echo "test.sh: no release tag (v*) yet: the breaking-change gate has nothing to compare with" >&2
fi

if [[ -z ${TEST_DATABASE_URL:-} ]]; then
	TEST_DATABASE_URL=$(scripts/pg.sh url)
fi
export TEST_DATABASE_URL

# Redis for the shared rate limiter's tests: TEST_REDIS_URL when set, else
# the Redis answering on 127.0.0.1:6379, else a private redis-server started
# on a free port under .data/redis (and stopped on exit), else those tests
# skip, saying what to install.
redis_answers() { # host port
	timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf "PING\r\n" >&3 && IFS= read -r -t 1 line <&3 && [[ $line == +PONG* ]]' _ "$1" "$2" 2>/dev/null
}
port_free() { # port
	! timeout 1 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}
if [[ -z ${TEST_REDIS_URL:-} ]]; then
	if redis_answers 127.0.0.1 6379; then
		TEST_REDIS_URL=redis://127.0.0.1:6379/0
	elif command -v redis-server >/dev/null; then
		redis_dir=$PWD/.data/redis
		mkdir -p "$redis_dir"
		for redis_port in $(seq 63790 63889); do
			port_free "$redis_port" && break
		done
		redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
			--dir "$redis_dir" --pidfile "$redis_dir/redis.pid" --logfile "$redis_dir/redis.log"
		trap 'kill "$(cat "$redis_dir/redis.pid" 2>/dev/null)" 2>/dev/null || true' EXIT
		for _ in $(seq 50); do
			redis_answers 127.0.0.1 "$redis_port" && break
			sleep 0.1
		done
		TEST_REDIS_URL=redis://127.0.0.1:$redis_port/0
	else
		echo "test.sh: no Redis on 127.0.0.1:6379 and redis-server is not installed: the shared rate limiter's tests will skip (apt-get install redis-server)" >&2
	fi
fi
export TEST_REDIS_URL

race=()
if [[ $(go env CGO_ENABLED) == 1 ]] && command -v gcc >/dev/null; then
	race=(-race)
fi
go test "${race[@]}" -count=1 -timeout 20m "$@" ./...
