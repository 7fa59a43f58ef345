# The two commands: `make run` and `make test`. See README.md.
.PHONY: run test generate dashboard build fmt db-stop clean

run: ## serve the API on :8080 with demo data (starts a private PostgreSQL if DATABASE_URL is unset)
	@scripts/run.sh

test: ## gofmt, vet, staticcheck, generated-code check and every test against a real PostgreSQL
	@scripts/test.sh

generate: ## regenerate node/associations_gen.go from the association table, then graph/ and the resolver stubs from schema/*.graphqls, then the published schema.graphql, then the Go client from it (client/generated.go), then examples/dashboard's types and bundle (when npm is installed)
	go test ./resolvers -run '^TestNodeMethodsGenerated$$' -update -count=1
	go tool gqlgen generate
	go test ./resolvers -run '^TestPublishedSchemaCurrent$$' -update -count=1
	go tool genqlient client/genqlient.yaml
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory dashboard; \
	else echo "make generate: npm is missing, so examples/dashboard was not rebuilt from the new schema.graphql (make dashboard; TestDashboardBuildCurrent will fail until it is)"; fi

dashboard: ## rebuild examples/dashboard from schema.graphql: TypeScript types (graphql-codegen), type check, bundle into dist/ (npm ci first when needed)
	@command -v npm >/dev/null || { echo "make dashboard: npm is needed (Debian: apt-get install nodejs npm)"; exit 1; }
	@cd examples/dashboard && { [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; } && npm run --silent build

# The release version `tenantapi version` and tenantapi_build_info report:
# the nearest tag (CHANGELOG.md), else "dev"; the commit comes from VCS data.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X tenantapi/buildinfo.version=$(VERSION)

build: ## build bin/tenantapi with its version and commit (tenantapi version)
	go build -buildvcs=auto -ldflags "$(LDFLAGS)" -o bin/tenantapi .

fmt:
	gofmt -w $$(git ls-files '*.go')

db-stop: ## stop the private PostgreSQL cluster
	@scripts/pg.sh stop

clean: db-stop
	rm -rf .data bin

# Fuzzing: every Fuzz target of the module for FUZZTIME each (make test runs
# only their seed corpora). Longer: make fuzz FUZZTIME=10m; one target:
# go test ./httpapi -run '^$' -fuzz '^FuzzRequestBody$' -fuzztime 1h
# Crashers are saved under the package's testdata/fuzz/ and then run by make test.
.PHONY: fuzz
FUZZTIME ?= 15s

fuzz: ## run every fuzz target for FUZZTIME each (default 15s)
	@export TEST_DATABASE_URL="$${TEST_DATABASE_URL:-$$(scripts/pg.sh url)}"; \
	for pkg in $$(go list ./...); do \
		for target in $$(go test -list '^Fuzz' "$$pkg" | grep '^Fuzz'); do \
			echo "fuzz: $$pkg $$target for $(FUZZTIME)"; \
			go test "$$pkg" -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) || exit 1; \
		done; \
	done

# The benchmark against PostGraphile v5 (docs/benchmarks.md). Never part of
# `make test`. BENCH_FLAGS passes options to the driver, e.g.
# BENCH_FLAGS="-duration 20s -levels 1,10,50,100".
.PHONY: bench bench-seed bench-peer bench-profile
BENCH_FLAGS ?=

bench: bench-seed bench-peer ## benchmark this API against PostGraphile on the seeded data (5 minutes; 7 the first time): docs/benchmarks.md
	go build -o bin/tenantapi .
	go build -tags benchceiling -o bin/tenantapi-ceiling .
	go build -o bin/bench-load ./bench/cmd/load
	bin/bench-load -url "$$(scripts/pg.sh url)" $(BENCH_FLAGS)

bench-seed: ## seed the benchmark database tenantapi_bench (10,000 tenants, about a minute; skipped when current)
	go run ./bench/cmd/seed -url "$$(scripts/pg.sh url)"

bench-peer: bench/postgraphile/node_modules/.package-lock.json ## install PostGraphile 5.1.5 and Node 22 from npm into bench/postgraphile

bench/postgraphile/node_modules/.package-lock.json: bench/postgraphile/package.json bench/postgraphile/package-lock.json
	@command -v npm >/dev/null || { echo "bench: npm is needed to install PostGraphile (Debian: apt-get install --no-install-recommends npm)"; exit 1; }
	cd bench/postgraphile && npm ci --no-audit --no-fund

bench-profile: bench-seed ## CPU and allocation profiles of this API under workloads 1 and 2 (.data/bench/*.txt)
	go build -o bin/tenantapi-bench-server ./bench/cmd/server
	go build -o bin/bench-load ./bench/cmd/load
	bin/bench-load -url "$$(scripts/pg.sh url)" -profile 15
