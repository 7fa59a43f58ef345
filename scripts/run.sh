#!/usr/bin/env bash
# scripts/run.sh - `make run`: serve the API with demo data.
# With no DATABASE_URL it starts a private PostgreSQL under .data/ (scripts/pg.sh)
# and uses its database "tenantapi"; with no ADMIN_SECRET it generates one into
# .data/admin-secret. Then it builds, migrates, seeds the demo tenant and serves.
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."
mkdir -p .data

if [[ -z ${DATABASE_URL:-} ]]; then
	base=$(scripts/pg.sh url)
	scripts/pg.sh createdb tenantapi
	DATABASE_URL=${base/\/postgres\?/\/tenantapi?}
	export DATABASE_URL
	echo "run.sh: using the private PostgreSQL: $DATABASE_URL" >&2
fi

if [[ -z ${ADMIN_SECRET:-} ]]; then
	if [[ ! -s .data/admin-secret ]]; then
		(umask 077 && od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >.data/admin-secret)
	fi
	ADMIN_SECRET=$(cat .data/admin-secret)
	export ADMIN_SECRET
	echo "run.sh: ADMIN_SECRET (operator credential, every tenant) from .data/admin-secret: $ADMIN_SECRET" >&2
fi

export LOG_FORMAT=${LOG_FORMAT:-text}
# Without an SMTP server, notification email lands in .data/mail/*.eml (the
# log names each file); links in it, SSO login URLs and SSO callbacks point
# at this server (PUBLIC_URL; PUBLIC_BASE_URL is its older name).
export PUBLIC_URL=${PUBLIC_URL:-${PUBLIC_BASE_URL:-http://localhost:${PORT:-8080}}}
unset PUBLIC_BASE_URL
# The seller printed on invoices (demo values).
export SELLER_NAME=${SELLER_NAME:-Tenant API Demo SAS}
export SELLER_ADDRESS=${SELLER_ADDRESS:-12 rue de la Paix; 75002 Paris; France}
export SELLER_EMAIL=${SELLER_EMAIL:-billing@tenantapi.example}
export SELLER_TAX_ID=${SELLER_TAX_ID:-FR00123456789}
if [[ -z ${SMTP_URL:-} ]]; then
	echo "run.sh: no SMTP_URL: notification email is written to .data/mail/ as .eml files" >&2
fi
go build -buildvcs=auto -ldflags "-X tenantapi/buildinfo.version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)" -o .data/bin/tenantapi .
exec .data/bin/tenantapi serve -seed-demo -demo-key-file .data/demo-api-key
