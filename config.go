package main

import (
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"tenantapi/db"
	"tenantapi/httpapi"
	"tenantapi/keyring"
	"tenantapi/mail"
	"tenantapi/ratelimit"
	"tenantapi/tenant"
)

// config is the process configuration, read from the environment by
// loadConfig as the table in settings declares.
type config struct {
	DatabaseURL      string
	DirectURL        string // DATABASE_DIRECT_URL; "" = DatabaseURL
	Port             int
	AdminSecret      string
	AllowedOrigins   []string
	LogLevel         slog.Level
	LogFormat        string
	LoaderWait       time.Duration
	DBMaxConns       int
	ShutdownTimeout  time.Duration
	ShutdownDrain    time.Duration
	EncryptionKey    string // keyring spec; "" = development key under .data/
	EgressPrivate    bool
	TrustedProxies   []netip.Prefix
	RedisURL         string // "" = in-process rate limiter
	AnonymousPerMin  int    // rate limit of requests without credentials per client address; 0 = none
	FailedAuthPerMin int    // failed authentications per client address; 0 = none
	Limits           httpapi.Limits
	MaxBodyBytes     int64
	RequestTimeout   time.Duration
	MaxConcurrent    int           // QUERY_MAX_CONCURRENT: GraphQL responses executing at once; 0 = no bound
	StatementTime    time.Duration // DB_STATEMENT_TIMEOUT; 0 = none
	DBPrepare        bool          // DB_PREPARED_STATEMENTS
	AssocCacheBytes  int64         // ASSOC_CACHE_BYTES; 0 = no association cache
	Introspection    httpapi.IntrospectionMode
	Suggestions      bool
	SSOLoginBase     string // SSO_LOGIN_BASE_URL: where tenants' users start an SSO login
	MaxActiveKeys    int    // API_KEYS_MAX_ACTIVE: active API keys per tenant
	MaxMembers       int    // MEMBERS_MAX: members per tenant
	SessionIdle      time.Duration
	SessionMaxAge    time.Duration
	LoginPerMin      int // RATE_LIMIT_LOGIN_PER_MINUTE: password logins per account per client address
	EventRetention   time.Duration
	WebhookWorkers   int // WEBHOOK_WORKERS: webhook attempts in flight per instance
	WebhookPerURL    int // WEBHOOK_CONCURRENCY_PER_ENDPOINT
	WebhookTimeout   time.Duration
	WebhookDisable   time.Duration // WEBHOOK_DISABLE_AFTER
	SMTPURL          string        // "" = mail written as .eml files into MailDir
	MailFrom         string
	MailDir          string
	PublicBaseURL    string        // PUBLIC_URL: where this deployment is reached (SSO, links in email)
	LivePerCred      int           // LIVE_SUBSCRIPTIONS_PER_CREDENTIAL
	Seller           tenant.Seller // SELLER_*: who issues invoices
}

// minAdminSecret is the shortest ADMIN_SECRET accepted: it guards every tenant.
const minAdminSecret = 24

// A setting is one environment variable, declared once: its default, what
// it accepts, how it is read, and its row of docs/configuration.md's
// table, which TestConfigTableMatchesDocs keeps equal to this
// declaration.
type setting struct {
	name string
	// def is the value used when the variable is unset (or empty), read by
	// the same parser as a set value, so the default obeys the same range;
	// "" = none.
	def string
	// defNote is the docs' words on the default, after def when there
	// is one ("(1 MiB)") or instead of it ("unset (in-process rate limiter)").
	defNote string
	// required is the end of the error when the variable is unset:
	// "NAME is required, <required>".
	required string
	// olderFormOf names the variable that replaced this one: setting both
	// is an error.
	olderFormOf string
	// val parses the value into the config and says what it allows. A nil
	// val.set marks a variable read elsewhere (by the Go runtime, by
	// tests), declared here for the docs only.
	val     value
	meaning string // the docs' Meaning column
}

// A value is how a setting is read: allowed is the docs' Allowed column,
// and set stores a value or returns the one-line error naming the variable
// and what it allows (never the value of a secret).
type value struct {
	allowed string
	set     func(name, v string) error
}

// settings declares every environment variable, in the docs' order,
// with set functions that write into c.
func settings(c *config) []setting {
	return []setting{
		{name: "DATABASE_URL", defNote: "— (required; `make run` supplies the private cluster's)",
			required: "e.g. postgres://user@127.0.0.1:5432/tenantapi?sslmode=disable (or use `make run`, which starts a private PostgreSQL)",
			val:      databaseURL(&c.DatabaseURL),
			meaning:  "PostgreSQL URL, e.g. `postgres://app@db:5432/tenantapi?sslmode=disable`. lib/pq defaults to `sslmode=require`. Without `connect_timeout`, 5 (seconds) is added: opening a connection includes a handshake that requests' deadlines do not bound."},
		{name: "DATABASE_DIRECT_URL", defNote: "`DATABASE_URL`", val: databaseURL(&c.DirectURL),
			meaning: "The same database reached without a pooler in transaction mode, for what needs a session of its own: the live subscriptions' `LISTEN` connection (which also wakes the webhook worker) and migrations. Set it when `DATABASE_URL` goes through PgBouncer in transaction mode (docs/scaling.md)."},
		{name: "PORT", def: "8080", val: number(&c.Port, 1, 65535, ""),
			meaning: "HTTP port."},
		{name: "ADMIN_SECRET", defNote: "unset (operator access disabled)", val: adminSecret(&c.AdminSecret),
			meaning: "The platform operator's credential: every permission on every tenant (`openssl rand -hex 32`). Compared in constant time."},
		{name: "CORS_ALLOWED_ORIGINS", defNote: "none (same-origin only)", val: origins(&c.AllowedOrigins),
			meaning: "Origins allowed to call the API from a browser. Unset, no response carries an `Access-Control-Allow-*` header (preflights included), so browsers allow no cross-origin call; a listed origin is echoed back, and `*` is answered only when configured (`TestCORSOrigins`). Credentials (cookies) are never allowed: the API uses bearer tokens. Also the origins allowed to open websockets."},
		{name: "LOG_LEVEL", def: "info", val: logLevel(&c.LogLevel),
			meaning: "The least severe log lines written."},
		{name: "LOG_FORMAT", def: "json", defNote: "(`text` under `make run`)", val: oneOf(&c.LogFormat, "json", "text"),
			meaning: "Structured logs with `log/slog`: one line per request with its request id, status, duration, operation name and actor."},
		{name: "LOADER_WAIT", def: "0", val: duration(&c.LoaderWait, 0, time.Second, "", "0 or 500us"),
			meaning: "How long a dataloader waits to collect keys (see Batched loads)."},
		{name: "DB_MAX_CONNS", def: "20", val: number(&c.DBMaxConns, 1, 1000, ""),
			meaning: "Connection pool size. The combined reads of a tenant's associations use a second pool of half as many connections (at least 2), whose sessions use generic plans (`plan_cache_mode=force_generic_plan`); see *Batched loads*."},
		{name: "GOGC", def: strconv.Itoa(defaultGCPercent), val: value{allowed: "a percentage, or `off` (read by the Go runtime)"},
			meaning: "Go's garbage collector. The server sets this default when the variable is unset: a request allocates much and keeps little, and Go's own default (`GOGC=100`) spent 13% of the CPU collecting on the admin list."},
		{name: "GOMEMLIMIT", def: fmt.Sprintf("%dMiB", defaultMemLimit>>20), val: value{allowed: "bytes with a unit such as `512MiB`, or `off` (read by the Go runtime)"},
			meaning: fmt.Sprintf("Go's soft memory limit, set by the server when the variable is unset: it keeps the heap near %d MiB under load, and the process under 150 MB. In a container set it to about 80%% of its memory.", defaultMemLimit>>20)},
		{name: "DB_PREPARED_STATEMENTS", def: "true", val: boolean(&c.DBPrepare),
			meaning: "Reads run as named prepared statements, parsed once per connection and planned once per shape. Set `false` behind a pooler in transaction mode that cannot keep prepared statements (PgBouncer before 1.21, or without `max_prepared_statements`); the combined-read pool is then not used (docs/scaling.md)."},
		{name: "ASSOC_CACHE_BYTES", def: strconv.Itoa(db.DefaultAssocCacheBytes), defNote: "(32 MiB)", val: cacheBytes(&c.AssocCacheBytes),
			meaning: "Bound of the association cache: a tenant's association reads (settings, usage, billing, invoices, stats…) kept per instance under the tenant's data version, which every writing transaction changes, so a read after a committed write never sees older data, on any instance. `0` turns it off. Its hits, misses, evictions and size are in `/metrics` (`tenantapi_assoc_cache_*`); see docs/benchmarks.md."},
		{name: "SHUTDOWN_TIMEOUT", def: "20s", val: duration(&c.ShutdownTimeout, time.Nanosecond, 0, "", "20s"),
			meaning: "On SIGTERM/SIGINT, once the drain is over and the server stops accepting connections, how long in-flight requests get to finish (websocket and SSE subscriptions are ended at once, cleanly)."},
		{name: "SHUTDOWN_DRAIN", def: "10s", val: duration(&c.ShutdownDrain, time.Nanosecond, 0, "no drain", "10s"),
			meaning: "On SIGTERM, how long the server keeps serving with `/readyz` answering 503, so load balancers stop sending it requests before it stops accepting them. Set it above the balancer's health-check interval × its failure threshold. A second signal ends the drain early; SIGINT (Ctrl-C) skips it."},
		{name: "ENCRYPTION_KEY", defNote: "a development key generated into `.data/encryption-key`, with a warning", val: encryptionKey(&c.EncryptionKey),
			meaning: "Keyring for secrets at rest (SSO client secrets, webhook secrets): AES-256-GCM, the tenant id bound as additional data. The primary key comes first (`k2:…,k1:…`): new secrets are sealed with it, older keys still open what they sealed. `openssl rand -base64 32`."},
		{name: "TRUSTED_PROXIES", defNote: "none", val: prefixes(&c.TrustedProxies),
			meaning: "Your reverse proxies. Only from them is `X-Forwarded-For` believed (read from the right, skipping trusted hops) to find the client address that IP allowlists check."},
		{name: "EGRESS_ALLOW_PRIVATE", def: "false", val: boolean(&c.EgressPrivate),
			meaning: "Outbound requests (SSO checks, test webhooks) refuse every address that is not globally reachable (see *Outbound requests*). `true` allows loopback, private-use, shared (`100.64.0.0/10`), link-local and unique-local addresses, and nothing else: development only."},
		{name: "SSO_LOGIN_BASE_URL", defNote: "`<PUBLIC_URL>/auth/sso` (this deployment)", val: ssoLoginBase(&c.SSOLoginBase),
			meaning: "An override of where tenants' users start an SSO login: `SsoConfig.loginUrl` is this followed by `/<tenant id>`. Set it only when a proxy serves this deployment's `/auth/sso/` under another URL (docs/sso.md). A trailing slash is dropped."},
		{name: "REDIS_URL", defNote: "unset (in-process rate limiter)", val: redisURL(&c.RedisURL),
			meaning: "The rate limits' budgets are kept in Redis, shared by every instance using it. See Rate limits."},
		{name: "RATE_LIMIT_ANONYMOUS_PER_MINUTE", def: "60", val: number(&c.AnonymousPerMin, 0, 1_000_000, "requests"),
			meaning: "Requests a minute without credentials, per client address (an IPv6 /64)."},
		{name: "RATE_LIMIT_FAILED_AUTH_PER_MINUTE", def: "20", val: number(&c.FailedAuthPerMin, 0, 1_000_000, "failed authentications"),
			meaning: "Failed authentications a minute per client address (unknown, revoked or expired key, wrong admin secret); past it the address's credentials that do not authenticate are refused with 429, while valid ones still pass (see *Rate limits*)."},
		{name: "API_KEYS_MAX_ACTIVE", def: strconv.Itoa(tenant.DefaultMaxActiveAPIKeys),
			val:     number(&c.MaxActiveKeys, tenant.MinMaxActiveAPIKeys, tenant.MaxMaxActiveAPIKeys, "active API keys per tenant"),
			meaning: "Active (neither revoked nor expired) API keys per tenant; `createApiKey` past it answers `CONFLICT`. See Authentication and permissions."},
		{name: "MEMBERS_MAX", def: strconv.Itoa(tenant.DefaultMaxMembers),
			val:     number(&c.MaxMembers, tenant.MinMaxMembers, tenant.MaxMaxMembers, "members per tenant"),
			meaning: "Members per tenant, INVITED and DEACTIVATED ones included; `inviteMember` past it answers `CONFLICT` naming the limit. See docs/members.md."},
		{name: "SESSION_IDLE_TIMEOUT", def: fmtDuration(tenant.DefaultSessionIdle), val: duration(&c.SessionIdle, time.Minute, 30*24*time.Hour, "", "30m"),
			meaning: "A member's session ends after this long without a request. See docs/members.md, Sessions."},
		{name: "SESSION_MAX_AGE", def: fmtDuration(tenant.DefaultSessionMaxAge), val: duration(&c.SessionMaxAge, time.Minute, 90*24*time.Hour, "", "12h"),
			meaning: "A member's session ends this long after its login, however busy (the session cookie expires then too)."},
		{name: "RATE_LIMIT_LOGIN_PER_MINUTE", def: "5", val: number(&c.LoginPerMin, 0, 1000, "login attempts"),
			meaning: "Password logins (and password reset requests) a minute per account per client address; a client address may try six times that across accounts. Past it `login` answers `RATE_LIMITED` without checking the password; other addresses are unaffected, so nobody is locked out. 0 = unlimited. See docs/members.md."},
		{name: "QUERY_MAX_DEPTH", def: strconv.Itoa(httpapi.DefaultLimits.MaxDepth), val: number(&c.Limits.MaxDepth, 2, 100, "levels of nested fields"),
			meaning: "Levels of nested fields in a query (introspection excepted). See Query limits and request guards."},
		{name: "QUERY_MAX_ALIASES", def: strconv.Itoa(httpapi.DefaultLimits.MaxAliases), val: number(&c.Limits.MaxAliases, 1, 10000, "aliases per operation"),
			meaning: "Aliased fields per operation, fragments expanded."},
		{name: "QUERY_MAX_DIRECTIVES", def: strconv.Itoa(httpapi.DefaultLimits.MaxDirectives), val: number(&c.Limits.MaxDirectives, 1, 100, "directives per field"),
			meaning: "Directives on one field (or fragment spread, inline fragment, operation)."},
		{name: "QUERY_MAX_TOKENS", def: strconv.Itoa(httpapi.DefaultLimits.MaxTokens), val: number(&c.Limits.MaxTokens, 100, 1_000_000, "tokens per document"),
			meaning: "Lexical tokens of a document (comments are free)."},
		{name: "QUERY_MAX_FIELD_COPIES", def: strconv.Itoa(httpapi.DefaultLimits.MaxFieldCopies), val: number(&c.Limits.MaxFieldCopies, 1, 1000, "copies of one field in a selection set"),
			meaning: "Selections of one response name in one selection set once fragments are merged."},
		{name: "QUERY_MAX_COST", def: strconv.Itoa(httpapi.DefaultLimits.MaxCost), val: number(&c.Limits.MaxCost, 100, 100_000_000, "cost units per operation"),
			meaning: "Cost of an operation (a field 1, a connection `first` × what each item selects)."},
		{name: "REQUEST_MAX_BYTES", def: "1048576", defNote: "(1 MiB)", val: number(&c.MaxBodyBytes, 1024, 100<<20, "bytes"),
			meaning: "Largest request body; larger answers 413 `REQUEST_TOO_LARGE`."},
		{name: "REQUEST_TIMEOUT", def: fmtDuration(httpapi.DefaultRequestTimeout), val: duration(&c.RequestTimeout, 100*time.Millisecond, 10*time.Minute, "", "15s"),
			meaning: "Deadline of each request (of each operation over a websocket); past it the database statement is cancelled and the request answers `SERVICE_UNAVAILABLE`."},
		{name: "QUERY_MAX_CONCURRENT", def: strconv.Itoa(defaultMaxConcurrent()), defNote: "(4 × the CPUs Go uses)", val: number(&c.MaxConcurrent, 0, 100_000, "operations"),
			meaning: "Queries and mutations executing at once in this instance (subscriptions are bounded by `LIVE_SUBSCRIPTIONS_PER_CREDENTIAL` instead); more wait their turn until their deadline (`REQUEST_TIMEOUT`), then answer `SERVICE_UNAVAILABLE` with nothing run. Fewer at once keep the live heap small under `GOMEMLIMIT`, so the collector does not run continuously under load (docs/benchmarks.md)."},
		{name: "DB_STATEMENT_TIMEOUT", def: "10s", val: duration(&c.StatementTime, time.Millisecond, time.Hour, "none", "10s"),
			meaning: "PostgreSQL's `statement_timeout` on every connection of the pool, set at connection start-up (`options=-c statement_timeout=…`); migrations run without it. PgBouncer refuses start-up options unless `ignore_startup_parameters` lists `options`, and then drops them: behind it set `0` here and `ALTER ROLE … SET statement_timeout` instead (docs/scaling.md)."},
		{name: "EVENT_RETENTION", def: fmtDuration(defaultEventRetention), defNote: "(30 days)", val: duration(&c.EventRetention, time.Hour, 10*365*24*time.Hour, "", "720h"),
			meaning: "How long the event log (`Tenant.events`, docs/events.md) keeps an event; older events are purged hourly."},
		{name: "WEBHOOK_WORKERS", def: "8", val: number(&c.WebhookWorkers, 1, 1000, "attempts"),
			meaning: "Webhook delivery attempts in flight at once in each instance (a shared pool for every tenant; see docs/notifications.md, Delivery)."},
		{name: "WEBHOOK_CONCURRENCY_PER_ENDPOINT", def: "2", val: number(&c.WebhookPerURL, 1, 1000, "attempts"),
			meaning: "Webhook delivery attempts in flight at once per endpoint URL in each instance, so one slow endpoint cannot take the whole pool."},
		{name: "WEBHOOK_TIMEOUT", def: "10s", val: duration(&c.WebhookTimeout, time.Second, 5*time.Minute, "", "10s"),
			meaning: "How long one webhook delivery attempt may take, connection to the end of the response; a slower endpoint's attempt fails and is retried."},
		{name: "WEBHOOK_DISABLE_AFTER", def: "120h", defNote: "(5 days)", val: duration(&c.WebhookDisable, time.Hour, 365*24*time.Hour, "", "120h"),
			meaning: "A webhook endpoint whose attempts have all failed for this long, with no success in between, is disabled: the event `webhook_endpoint.disabled` is written and every address of the tenant's `emails` is mailed; `enableWebhookEndpoint` (or a new `webhookUrl`) enables it again (docs/notifications.md, Disabled endpoints)."},
		{name: "SMTP_URL", defNote: "unset (mail written as `.eml` files into MAIL_DIR)", val: smtpURL(&c.SMTPURL),
			meaning: "The SMTP server notification email is sent through (docs/notifications.md, Email). `smtp://` requires STARTTLS; `smtps://` is TLS from the first byte; `smtp+insecure://` (no TLS, no password) is for a relay on a trusted network such as a development mail catcher. Failures are retried on the webhook schedule. Its password never appears in logs or errors."},
		{name: "MAIL_FROM", def: defaultMailFrom, val: mailFrom(&c.MailFrom),
			meaning: "The From of notification email (the envelope sender is its address). Set it with SMTP_URL: relays refuse a sender of a domain they do not serve."},
		{name: "MAIL_DIR", def: ".data/mail", val: value{allowed: "a directory path", set: func(_, v string) error { c.MailDir = v; return nil }},
			meaning: "Where email goes as `<event id>-<n>.eml` files while SMTP_URL is unset (`make run`); each file written is logged with its path. Open one with any mail client."},
		{name: "PUBLIC_URL", defNote: "`http://localhost:$PORT`", val: publicBaseURL(&c.PublicBaseURL),
			meaning: "Where people and identity providers reach this deployment: the base of SSO login URLs and callbacks (`/auth/sso/…`, `/auth/saml/…`; docs/sso.md) and of links in email (an invoice's PDF, invitations, password resets). Behind a proxy, its public https URL."},
		{name: "PUBLIC_BASE_URL", defNote: "unset", olderFormOf: "PUBLIC_URL", val: publicBaseURL(&c.PublicBaseURL),
			meaning: "The older name of `PUBLIC_URL`."},
		{name: "SELLER_NAME", defNote: "unset (invoices print `SELLER_NAME is not set`; `make run` sets a demo company)", val: sellerLine(&c.Seller.Name, 200),
			meaning: "The legal name of the operator issuing invoices, printed on every invoice issued from then on (an issued invoice keeps the seller it was issued with). See docs/billing.md."},
		{name: "SELLER_ADDRESS", defNote: "unset", val: sellerAddress(&c.Seller.Address),
			meaning: "The seller's postal address on invoices, lines separated by `;` (at most 6): `12 rue de la Paix; 75002 Paris; France`."},
		{name: "SELLER_EMAIL", defNote: "unset", val: sellerLine(&c.Seller.Email, 254),
			meaning: "The seller's billing contact on invoices."},
		{name: "SELLER_TAX_ID", defNote: "unset", val: sellerLine(&c.Seller.TaxID, 32),
			meaning: "The seller's tax id (VAT number) on invoices."},
		{name: "LIVE_SUBSCRIPTIONS_PER_CREDENTIAL", def: "10", val: number(&c.LivePerCred, 1, 10000, "subscriptions"),
			meaning: "Live subscriptions (`tenantEvents`, `tenantUpdated`; docs/events.md) one credential may hold open at once in each instance, over websockets and SSE together; one more answers `RATE_LIMITED`."},
		{name: "INTROSPECTION", def: string(httpapi.IntrospectionAll), val: introspection(&c.Introspection),
			meaning: "Who may query `__schema` and `__type`: `all`; `authenticated` (an API key or the admin secret; anonymous callers get `INTROSPECTION_DISABLED` with a message saying to authenticate); `off` (everyone refused, GraphiQL off with 404). `__typename` always works. **Production: `authenticated`**, so typed-client generators work with a key while the schema is not shown to everyone. Introspection is priced in `QUERY_MAX_COST` and `QUERY_MAX_DEPTH` in every mode (see Query limits)."},
		{name: "INTROSPECTION_ENABLED", defNote: "unset", olderFormOf: "INTROSPECTION", val: introspectionEnabled(&c.Introspection),
			meaning: "The older form of `INTROSPECTION`: `true` = `all`, `false` = `off`. Setting both is an error."},
		{name: "FIELD_SUGGESTIONS_ENABLED", def: "true", val: boolean(&c.Suggestions),
			meaning: "`false` removes \"Did you mean …?\" from every error, so error messages do not reveal schema names. Production: `false`."},
		{name: "TEST_DATABASE_URL", defNote: "private cluster", val: value{allowed: "a superuser `postgres://` URL (read by `db/dbtest`)"},
			meaning: "Tests only: each test creates and drops its own database."},
		{name: "TEST_DATABASE_DIRECT_URL", defNote: "unset (`TEST_DATABASE_URL`)", val: value{allowed: "a superuser `postgres://` URL (read by `db/dbtest`)"},
			meaning: "Tests only: the server behind `TEST_DATABASE_URL` when that goes through a pooler (`TestPgBouncer` sets both): databases are created and dropped there, and live subscriptions' tests `LISTEN` there."},
		{name: "TEST_REDIS_URL", defNote: "set by `make test`", val: value{allowed: "a `redis://` URL (read by the rate limiter's tests)"},
			meaning: "Tests only: the Redis of the shared rate limiter's tests. `make test` uses the one on 127.0.0.1:6379 when it answers, else starts a private `redis-server` under `.data/redis`; without either those tests skip (`apt-get install redis-server`)."},
	}
}

// loadConfig reads every setting from getenv: an unset or empty variable
// takes its default. The first invalid one stops it with one line saying
// what is wrong and what is allowed.
func loadConfig(getenv func(string) string) (config, error) {
	var c config
	table := settings(&c)
	// A variable and its older form, both set, is a mistake whatever their
	// values: say so first rather than complain about one of them.
	for _, s := range table {
		if s.olderFormOf != "" && getenv(s.name) != "" && getenv(s.olderFormOf) != "" {
			return c, fmt.Errorf("set %s (%s) and not %s, its older form", s.olderFormOf, plain(settingAllowed(s.olderFormOf)), s.name)
		}
	}
	for _, s := range table {
		v := getenv(s.name)
		if v == "" {
			v = s.def
		}
		switch {
		case s.val.set == nil: // read elsewhere
		case v != "":
			if err := s.val.set(s.name, v); err != nil {
				return c, err
			}
		case s.required != "":
			return c, fmt.Errorf("%s is required, %s", s.name, s.required)
		}
	}
	if c.PublicBaseURL == "" {
		c.PublicBaseURL = fmt.Sprintf("http://localhost:%d", c.Port)
	}
	return c, nil
}

// settingAllowed returns the Allowed column of the named setting.
func settingAllowed(name string) string {
	for _, s := range settings(&config{}) {
		if s.name == name {
			return s.val.allowed
		}
	}
	return ""
}

// plain drops the docs' code marks for an error line.
func plain(s string) string { return strings.ReplaceAll(s, "`", "") }

// number reads an integer from min to max; unit names what it counts, and a
// min of 0 means no limit.
func number[T int | int64](dst *T, min, max T, unit string) value {
	what, from, allowed := "a number", fmt.Sprint(min), fmt.Sprintf("%d–%d", min, max)
	if unit != "" {
		what += " of " + unit
	}
	if min == 0 {
		from, allowed = "0 (no limit)", allowed+"; `0` = no limit"
	}
	return value{allowed: allowed, set: func(name, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < int64(min) || n > int64(max) {
			return fmt.Errorf("%s must be %s from %s to %d, got %q", name, what, from, max, v)
		}
		*dst = T(n)
		return nil
	}}
}

// cacheBytes reads the association cache's bound: 0 (off) or from 1 MiB.
func cacheBytes(dst *int64) value {
	return value{allowed: "`0` (off) or 1048576–17179869184 bytes", set: func(name, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || (n != 0 && (n < 1<<20 || n > 16<<30)) {
			return fmt.Errorf("%s must be 0 (off) or a number of bytes from 1048576 to 17179869184, got %q", name, v)
		}
		*dst = n
		return nil
	}}
}

// duration reads a Go duration from min to max (max 0: no upper bound);
// zero, if not "", is what 0 means, allowed besides the range.
func duration(dst *time.Duration, min, max time.Duration, zero, example string) value {
	rng, allowed := fmt.Sprintf("a duration from %s to %s", fmtDuration(min), fmtDuration(max)), fmtDuration(min)+"–"+fmtDuration(max)
	if max == 0 {
		rng, allowed = "a positive duration", "a positive duration"
	}
	rng += " such as " + example
	if zero != "" {
		rng, allowed = rng+", or 0 for "+zero, allowed+"; `0` = "+zero
	}
	return value{allowed: allowed, set: func(name, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || (max != 0 && d > max) || (d < min && !(d == 0 && zero != "")) {
			return fmt.Errorf("%s must be %s, got %q", name, rng, v)
		}
		*dst = d
		return nil
	}}
}

// defaultEventRetention is EVENT_RETENTION's default: 30 days.
const defaultEventRetention = 30 * 24 * time.Hour

// fmtDuration writes d as one would type it: 10m, not 10m0s.
func fmtDuration(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func boolean(dst *bool) value {
	return value{allowed: "`true`, `false`", set: func(name, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%s must be true or false, got %q", name, v)
		}
		*dst = b
		return nil
	}}
}

func oneOf(dst *string, values ...string) value {
	return value{allowed: "`" + strings.Join(values, "`, `") + "`", set: func(name, v string) error {
		for _, w := range values {
			if v == w {
				*dst = v
				return nil
			}
		}
		return fmt.Errorf("%s must be %s or %s, got %q", name, strings.Join(values[:len(values)-1], ", "), values[len(values)-1], v)
	}}
}

func logLevel(dst *slog.Level) value {
	return value{allowed: "`debug`, `info`, `warn`, `error`", set: func(name, v string) error {
		if err := dst.UnmarshalText([]byte(v)); err != nil {
			return fmt.Errorf("%s must be debug, info, warn or error, got %q", name, v)
		}
		return nil
	}}
}

func databaseURL(dst *string) value {
	return value{allowed: "a `postgres://` or `postgresql://` URL", set: func(name, v string) error {
		if !strings.HasPrefix(v, "postgres://") && !strings.HasPrefix(v, "postgresql://") {
			// Not the value: it may hold a password.
			return fmt.Errorf("%s must be a postgres:// URL", name)
		}
		*dst = v
		return nil
	}}
}

func adminSecret(dst *string) value {
	return value{allowed: fmt.Sprintf("at least %d characters", minAdminSecret), set: func(name, v string) error {
		if len(v) < minAdminSecret {
			return fmt.Errorf("%s must be at least %d characters (it reaches every tenant); generate one with `openssl rand -hex 32`", name, minAdminSecret)
		}
		*dst = v
		return nil
	}}
}

func origins(dst *[]string) value {
	return value{allowed: "comma-separated origins (`https://app.example.com`), or `*`", set: func(name, v string) error {
		for _, o := range strings.Split(v, ",") {
			o = strings.TrimSpace(o)
			if o != "*" && !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
				return fmt.Errorf("%s must be a comma-separated list of origins such as https://app.example.com, or *; got %q", name, o)
			}
			*dst = append(*dst, strings.TrimSuffix(o, "/"))
		}
		return nil
	}}
}

func prefixes(dst *[]netip.Prefix) value {
	return value{allowed: "comma-separated addresses or CIDR blocks", set: func(name, v string) error {
		for _, p := range strings.Split(v, ",") {
			prefix, err := tenant.ParsePrefix(p)
			if err != nil {
				return fmt.Errorf("%s must be a comma-separated list of addresses or CIDR blocks, got %q", name, strings.TrimSpace(p))
			}
			*dst = append(*dst, prefix)
		}
		return nil
	}}
}

func encryptionKey(dst *string) value {
	return value{allowed: "comma-separated `id:base64key` pairs of 32-byte keys, the primary first", set: func(_, v string) error {
		if _, err := keyring.Parse(v); err != nil {
			return err // names ENCRYPTION_KEY and the entry, never the key
		}
		*dst = v
		return nil
	}}
}

func redisURL(dst *string) value {
	return value{allowed: "`redis://[:password@]host:port/db`, or `rediss://` for TLS", set: func(name, v string) error {
		if _, err := ratelimit.ParseRedisURL(v); err != nil {
			return fmt.Errorf("%s must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379/0, or unset for the in-process rate limiter: %w", name, err)
		}
		*dst = v
		return nil
	}}
}

// defaultMailFrom is MAIL_FROM's default.
const defaultMailFrom = "Tenant API <noreply@localhost>"

func smtpURL(dst *string) value {
	return value{allowed: "`smtp://[user:password@]host[:587]`, `smtps://[user:password@]host[:465]`, `smtp+insecure://host[:25]`", set: func(name, v string) error {
		if _, err := mail.ParseServer(v); err != nil {
			return fmt.Errorf("%s %w", name, err) // never the value: it may hold a password
		}
		*dst = v
		return nil
	}}
}

func mailFrom(dst *string) value {
	return value{allowed: "an address, optionally with a name (`Acme <noreply@acme.fr>`)", set: func(name, v string) error {
		if _, err := mail.ParseFrom(v); err != nil {
			return fmt.Errorf("%s %w", name, err)
		}
		*dst = v
		return nil
	}}
}

func sellerLine(dst *string, maxLen int) value {
	return value{allowed: fmt.Sprintf("one line of text, at most %d characters", maxLen), set: func(name, v string) error {
		v = strings.TrimSpace(v)
		if len([]rune(v)) > maxLen || strings.ContainsAny(v, "\r\n") {
			return fmt.Errorf("%s must be one line of at most %d characters", name, maxLen)
		}
		*dst = v
		return nil
	}}
}

func sellerAddress(dst *[]string) value {
	return value{allowed: "up to 6 lines separated by `;`, each at most 100 characters", set: func(name, v string) error {
		var lines []string
		for _, l := range strings.Split(v, ";") {
			if l = strings.TrimSpace(l); l != "" {
				if len([]rune(l)) > 100 || strings.ContainsAny(l, "\r\n") {
					return fmt.Errorf("%s lines (separated by ;) must be at most 100 characters each", name)
				}
				lines = append(lines, l)
			}
		}
		if len(lines) > 6 {
			return fmt.Errorf("%s has at most 6 lines (separated by ;), got %d", name, len(lines))
		}
		*dst = lines
		return nil
	}}
}

func publicBaseURL(dst *string) value {
	return value{allowed: "an absolute http(s) URL without query or fragment", set: func(name, v string) error {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("%s must be an absolute http(s) URL without query or fragment, such as https://api.example.com", name)
		}
		*dst = strings.TrimSuffix(u.String(), "/")
		return nil
	}}
}

func ssoLoginBase(dst *string) value {
	return value{allowed: "an absolute https URL without query or fragment (http only for localhost)", set: func(name, v string) error {
		base, err := tenant.ParseSSOLoginBase(v)
		if err != nil {
			return fmt.Errorf("%s %w", name, err)
		}
		*dst = base
		return nil
	}}
}

func introspection(dst *httpapi.IntrospectionMode) value {
	return value{allowed: "`all`, `authenticated`, `off`", set: func(name, v string) error {
		m, err := httpapi.ParseIntrospectionMode(v)
		if err != nil {
			return fmt.Errorf("%s %w", name, err)
		}
		*dst = m
		return nil
	}}
}

func introspectionEnabled(dst *httpapi.IntrospectionMode) value {
	return value{allowed: "`true`, `false`", set: func(name, v string) error {
		on, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%s must be true or false, got %q (or use INTROSPECTION: all, authenticated or off)", name, v)
		}
		*dst = httpapi.IntrospectionOff
		if on {
			*dst = httpapi.IntrospectionAll
		}
		return nil
	}}
}

// defaultMaxConcurrent is QUERY_MAX_CONCURRENT's default: 4 operations
// per CPU the Go runtime uses (GOMAXPROCS).
func defaultMaxConcurrent() int { return 4 * runtime.GOMAXPROCS(0) }
