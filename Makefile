# The two commands: `make run` and `make test`. See README.md.
.PHONY: run test generate build fmt db-stop clean

run: ## serve the API on :8080 with demo data (starts a private PostgreSQL if DATABASE_URL is unset)
	@scripts/run.sh

test: ## gofmt, vet, generated-code check and every test against a real PostgreSQL
	@scripts/test.sh

generate: ## regenerate graph/ and the resolver stubs from schema/*.graphqls
	go tool gqlgen generate

build:
	go build -o bin/tenantapi .

fmt:
	gofmt -w $$(git ls-files '*.go')

db-stop: ## stop the private PostgreSQL cluster
	@scripts/pg.sh stop

clean: db-stop
	rm -rf .data bin
