#!/usr/bin/env bash
# scripts/pg.sh - a private, throwaway PostgreSQL cluster for `make run` / `make test`.
#
# Usage:
#   scripts/pg.sh url     ensure the cluster runs; print ONE line on stdout: a lib/pq URL
#                         for superuser "postgres" on database "postgres"
#   scripts/pg.sh createdb NAME  ensure the cluster runs and has database NAME
#   scripts/pg.sh stop    stop the cluster if it runs (pg_ctl stop -m fast)
#   scripts/pg.sh status  print whether it runs (exit 0 = running, 3 = not running)
#
# Environment:
#   PG_PRIVATE_PORT   TCP port on 127.0.0.1. Default: the port this checkout's cluster
#                     last used (.data/pg-port), else 54329, else the next free port
#                     up to 54428 (so several checkouts on one machine coexist).
#
# Layout (repo root = parent of this script's directory):
#   .data/pg        data directory          .data/pg.log   server log
#   .data/pg-run    unix socket directory   .data/pg.lock  flock(1) lock for this script
# When run as root, initdb/postgres run as the "postgres" system user. If that user
# cannot write to .data (e.g. the repo lives under a 0700 home directory), the cluster,
# socket directory and log move to /var/tmp/tenantapi-pg-<hash of repo path> instead;
# the lock file stays in .data.
#
# All progress and diagnostics go to stderr; stdout carries only the URL (url) or the
# status line (status). Never prompts.
set -euo pipefail

SELF=${BASH_SOURCE[0]:-$0}
ROOT=$(cd -- "$(dirname -- "$SELF")/.." && pwd -P)
DATA_AREA=$ROOT/.data
LOCK_FILE=$DATA_AREA/pg.lock
PORT_FILE=$DATA_AREA/pg-port
PORT_EXPLICIT=0
if [[ -n ${PG_PRIVATE_PORT:-} ]]; then
	PORT=$PG_PRIVATE_PORT PORT_EXPLICIT=1
elif [[ -s $PORT_FILE ]]; then
	PORT=$(<"$PORT_FILE")
else
	PORT=54329
fi
START_TIMEOUT=30  # seconds to wait for the server to accept connections
PG_SYSUSER=postgres
IS_ROOT=0
if [[ $(id -u) -eq 0 ]]; then IS_ROOT=1; fi

log() { printf 'pg.sh: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$SELF"
}

if ! [[ $PORT =~ ^[0-9]+$ ]] || ((PORT < 1 || PORT > 65535)); then
	die "PG_PRIVATE_PORT must be a TCP port number, got '$PORT'"
fi

# ---------------------------------------------------------------------------
# Paths

set_base() {
	BASE=$1
	PGDATA_DIR=$BASE/pg
	RUN_DIR=$BASE/pg-run
	LOG_FILE=$BASE/pg.log
}

fallback_base() {
	local h
	h=$(printf '%s' "$ROOT" | sha256sum | cut -c1-10)
	printf '/var/tmp/tenantapi-pg-%s\n' "$h"
}

# Where the cluster lives (no side effects). Candidates: .data, then (root only) the
# /var/tmp fallback. A running cluster wins, then an initialised one, else .data.
locate_existing() {
	local candidates=("$DATA_AREA") c
	if ((IS_ROOT)); then candidates+=("$(fallback_base)"); fi
	for c in "${candidates[@]}"; do
		set_base "$c"
		if is_running; then return 0; fi
	done
	for c in "${candidates[@]}"; do
		set_base "$c"
		if [[ -f $PGDATA_DIR/PG_VERSION ]]; then return 0; fi
	done
	set_base "$DATA_AREA"
}

# ---------------------------------------------------------------------------
# Helpers

# Close every fd > 2 (notably the flock fd 9) so that daemons we start - the
# postmaster, or a cluster started by Debian's postinst - do not inherit the lock
# (which would make every later invocation wait forever) or a caller's pipes.
close_fds() {
	local fd
	for fd in /proc/self/fd/*; do
		fd=${fd##*/}
		if [[ $fd =~ ^[0-9]+$ ]] && ((fd > 2)); then
			eval "exec ${fd}>&-" 2>/dev/null || true
		fi
	done
	return 0
}

# Run a PostgreSQL program as the cluster owner: the postgres system user when we
# are root (initdb, pg_ctl and postgres refuse to run as root), else ourselves.
run_pg() {
	(
		cd /
		close_fds
		if ((IS_ROOT)); then
			exec runuser -u "$PG_SYSUSER" -- "$@" </dev/null
		else
			exec "$@" </dev/null
		fi
	)
}

acquire_lock() {
	mkdir -p "$DATA_AREA"
	if ! command -v flock >/dev/null 2>&1; then
		log "warning: flock(1) not found; concurrent invocations are not serialised"
		return 0
	fi
	exec 9>>"$LOCK_FILE"
	if ! flock -w 600 9; then
		die "timed out waiting for lock $LOCK_FILE (another scripts/pg.sh still running?)"
	fi
}

# Sets RUNNING_PID / RUNNING_PORT if the postmaster of $PGDATA_DIR is alive.
is_running() {
	RUNNING_PID='' RUNNING_PORT=''
	local pidfile=$PGDATA_DIR/postmaster.pid pid cwd comm
	[[ -r $pidfile ]] || return 1
	pid=$(sed -n 1p "$pidfile" 2>/dev/null) || return 1
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	[[ -d /proc/$pid ]] || kill -0 "$pid" 2>/dev/null || return 1
	# Guard against PID reuse after a crash/reboot: the postmaster's cwd is its data dir.
	if cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null); then
		[[ $cwd == "$(cd "$PGDATA_DIR" && pwd -P)" ]] || return 1
	elif [[ -r /proc/$pid/comm ]]; then
		comm=$(<"/proc/$pid/comm")
		[[ $comm == postgres || $comm == postmaster ]] || return 1
	fi
	RUNNING_PID=$pid
	RUNNING_PORT=$(sed -n 4p "$pidfile" 2>/dev/null || true)
	return 0
}

url_for() { printf 'postgres://postgres@127.0.0.1:%s/postgres?sslmode=disable\n' "$1"; }

# Something accepts TCP connections on 127.0.0.1:$1 ?
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Does the server on 127.0.0.1:$1 accept connections?
server_ready() {
	if [[ -n ${PG_ISREADY:-} ]]; then
		"$PG_ISREADY" -q -h 127.0.0.1 -p "$1" -U postgres -d postgres -t 2 </dev/null >/dev/null 2>&1
	else
		port_open "$1"
	fi
}

wait_ready() {
	local port=$1 deadline=$((SECONDS + START_TIMEOUT))
	until server_ready "$port"; do
		if ((SECONDS >= deadline)); then return 1; fi
		sleep 0.2
	done
}

pg_major() { "$1" --version 2>/dev/null | sed -nE '1s/^[^0-9]*([0-9]+).*/\1/p'; }

# ---------------------------------------------------------------------------
# Binaries

# Sets INITDB, PG_CTL, POSTGRES, PG_ISREADY. $1 = preferred major version (the one
# an existing data directory was created with), may be empty.
find_bins() {
	local want=${1:-} dir=
	INITDB='' PG_CTL='' POSTGRES=''
	if [[ -n $want && -x /usr/lib/postgresql/$want/bin/postgres ]]; then
		dir=/usr/lib/postgresql/$want/bin
	elif command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 &&
		command -v postgres >/dev/null 2>&1; then
		INITDB=$(command -v initdb) PG_CTL=$(command -v pg_ctl) POSTGRES=$(command -v postgres)
	else
		dir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
	fi
	if [[ -n $dir ]]; then
		INITDB=$dir/initdb PG_CTL=$dir/pg_ctl POSTGRES=$dir/postgres
	fi
	[[ -x $INITDB && -x $PG_CTL && -x $POSTGRES ]] || return 1
	PG_ISREADY=$(dirname -- "$(readlink -f -- "$PG_CTL")")/pg_isready
	if [[ ! -x $PG_ISREADY ]]; then PG_ISREADY=$(command -v pg_isready || true); fi
	return 0
}

# Like find_bins, installing Debian's package when root and nothing is found.
need_bins() {
	local want=${1:-}
	find_bins "$want" && return 0
	if ((!IS_ROOT)); then
		die "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found: run 'sudo apt-get install --no-install-recommends postgresql', or set DATABASE_URL/TEST_DATABASE_URL to an existing server"
	fi
	command -v apt-get >/dev/null 2>&1 ||
		die "PostgreSQL server binaries not found and apt-get is unavailable: install PostgreSQL, or set DATABASE_URL/TEST_DATABASE_URL to an existing server"
	log "PostgreSQL server binaries not found; installing Debian package 'postgresql' (apt-get)..."
	(
		close_fds
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		exec apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 postgresql
	) </dev/null >&2 || die "apt-get install postgresql failed"
	find_bins "$want" || die "PostgreSQL installed but initdb/pg_ctl/postgres still not found"
}

# ---------------------------------------------------------------------------
# Cluster preparation

ensure_sysuser() {
	if ! id -u "$PG_SYSUSER" >/dev/null 2>&1; then
		log "creating system user '$PG_SYSUSER'"
		useradd --system --home /var/lib/postgresql --shell /bin/bash "$PG_SYSUSER"
	fi
}

# Create the socket dir and log file under $BASE, owned by the cluster owner.
prepare_dirs() {
	mkdir -p "$BASE"
	if [[ ! -d $RUN_DIR ]]; then mkdir -m 0700 "$RUN_DIR"; fi
	[[ -e $LOG_FILE ]] || : >>"$LOG_FILE"
	if ((IS_ROOT)); then
		chown "$PG_SYSUSER:" "$RUN_DIR" "$LOG_FILE"
		if [[ -d $PGDATA_DIR && $(stat -c %U "$PGDATA_DIR") != "$PG_SYSUSER" ]]; then
			log "changing ownership of $PGDATA_DIR to $PG_SYSUSER"
			chown -R "$PG_SYSUSER:" "$PGDATA_DIR"
		fi
	fi
}

# Pick $BASE for (re)starting: keep an initialised cluster in the /var/tmp fallback;
# otherwise .data if the cluster owner can write there, else (root only) the fallback.
choose_base() {
	if ((!IS_ROOT)); then
		set_base "$DATA_AREA"
		prepare_dirs
		return 0
	fi
	ensure_sysuser
	local fb owner
	fb=$(fallback_base)
	if [[ $BASE != "$fb" ]]; then
		set_base "$DATA_AREA"
		prepare_dirs
		if (cd / && close_fds && exec runuser -u "$PG_SYSUSER" -- test -w "$RUN_DIR" -a -w "$LOG_FILE") </dev/null; then
			return 0
		fi
		# Unreachable for the postgres user: undo what we just created (if unused).
		rmdir "$RUN_DIR" 2>/dev/null || true
		[[ -s $LOG_FILE ]] || rm -f -- "$LOG_FILE"
		log "user '$PG_SYSUSER' cannot write to $DATA_AREA (is a parent directory private?); using $fb instead"
	fi
	if [[ -L $fb ]]; then die "$fb is a symlink; refusing to use it"; fi
	if [[ -e $fb ]]; then
		owner=$(stat -c %U "$fb")
		if [[ $owner != root && $owner != "$PG_SYSUSER" ]]; then
			die "$fb exists but is owned by '$owner'; refusing to use it"
		fi
	fi
	if [[ ! -d $fb ]]; then mkdir -m 0711 "$fb"; fi
	chmod 0711 "$fb"
	set_base "$fb"
	prepare_dirs
}

pick_locale() {
	local locales
	locales=$(locale -a 2>/dev/null || true)
	if grep -qiE '^c\.utf-?8$' <<<"$locales"; then echo C.UTF-8; else echo C; fi
}

init_cluster() {
	if [[ -d $PGDATA_DIR ]]; then
		rmdir "$PGDATA_DIR" 2>/dev/null ||
			die "$PGDATA_DIR exists but is not a PostgreSQL data directory (no PG_VERSION); remove it"
	fi
	local tmp=$BASE/pg.initdb-tmp locale
	locale=$(pick_locale)
	rm -rf -- "$tmp"
	mkdir -m 0700 "$tmp"
	if ((IS_ROOT)); then chown "$PG_SYSUSER:" "$tmp"; fi
	log "initialising new cluster in $PGDATA_DIR (PostgreSQL $(pg_major "$POSTGRES"), locale $locale)"
	local out
	if ! out=$(run_pg "$INITDB" -D "$tmp" -U postgres --auth=trust -E UTF8 --locale="$locale" --no-sync 2>&1); then
		printf '%s\n' "$out" >&2
		rm -rf -- "$tmp"
		die "initdb failed"
	fi
	# Our settings live in pg_private.conf, rewritten before every start.
	printf '\n# Added by scripts/pg.sh\ninclude = '\''pg_private.conf'\''\n' >>"$tmp/postgresql.conf"
	mv -- "$tmp" "$PGDATA_DIR"
}

conf_quote() { printf "'%s'" "${1//\'/\'\'}"; }

write_conf() {
	local conf=$PGDATA_DIR/pg_private.conf sockdirs=$RUN_DIR
	# sun_path is 108 bytes: with a very long repo path go TCP-only.
	if ((${#RUN_DIR} + ${#PORT} + 11 > 107)); then
		log "socket directory path too long for a unix socket; listening on TCP only"
		sockdirs=
	fi
	{
		echo "# Written by scripts/pg.sh on every start; edits are overwritten."
		echo "listen_addresses = '127.0.0.1'"
		echo "port = $PORT"
		echo "unix_socket_directories = $(conf_quote "$sockdirs")"
		echo "max_connections = 200"
		echo "# THROWAWAY dev/test cluster: durability is deliberately traded for speed."
		echo "# A crash (or power loss) may corrupt it; just rm -rf the data dir and rerun."
		echo "fsync = off"
		echo "synchronous_commit = off"
		echo "full_page_writes = off"
	} >"$conf"
	if ((IS_ROOT)); then chown "$PG_SYSUSER:" "$conf"; fi
}

start_cluster() {
	local pidfile=$PGDATA_DIR/postmaster.pid
	if is_running; then die "cluster in $PGDATA_DIR is already running (pid $RUNNING_PID)"; fi
	local oldpid
	oldpid=$(sed -n 1p "$pidfile" 2>/dev/null || true)
	if [[ $oldpid =~ ^[0-9]+$ ]] && kill -0 "$oldpid" 2>/dev/null; then
		# Left over from a crash, and its PID now belongs to some other process
		# (PID reuse), which would make postgres refuse to start. A merely dead PID
		# is left alone: postgres itself removes such a stale file, after checking
		# that no orphaned backend still uses the shared memory.
		log "removing stale $pidfile (pid $oldpid is not this cluster's postmaster)"
		rm -f -- "$pidfile"
	fi
	if port_open "$PORT"; then
		((PORT_EXPLICIT)) && die "port 127.0.0.1:$PORT is already in use by another process; free it or choose another port with PG_PRIVATE_PORT=<port>"
		local p
		for ((p = 54329; p < 54429; p++)); do
			if ! port_open "$p"; then break; fi
		done
		((p < 54429)) || die "ports 54329-54428 are all in use; choose one with PG_PRIVATE_PORT=<port>"
		log "port $PORT is taken by another process; using $p"
		PORT=$p
	fi
	mkdir -p -- "$DATA_AREA"
	printf '%s\n' "$PORT" >"$PORT_FILE"
	write_conf
	log "starting PostgreSQL on 127.0.0.1:$PORT (data $PGDATA_DIR, log $LOG_FILE)"
	if ! run_pg "$PG_CTL" start -D "$PGDATA_DIR" -l "$LOG_FILE" -w -t "$START_TIMEOUT" -s >&2; then
		log "server failed to start; last lines of $LOG_FILE:"
		tail -n 20 "$LOG_FILE" >&2 || true
		if tail -n 20 "$LOG_FILE" 2>/dev/null | grep -qiE 'could not bind|address already in use'; then
			die "port 127.0.0.1:$PORT is already in use; choose another port with PG_PRIVATE_PORT=<port>"
		fi
		die "could not start PostgreSQL (see $LOG_FILE)"
	fi
	wait_ready "$PORT" || die "PostgreSQL did not accept connections on 127.0.0.1:$PORT within ${START_TIMEOUT}s (see $LOG_FILE)"
}

stop_cluster() {
	if find_bins "$(cat "$PGDATA_DIR/PG_VERSION" 2>/dev/null || true)"; then
		run_pg "$PG_CTL" stop -D "$PGDATA_DIR" -m fast -w -t 60 -s >&2
	else
		# No pg_ctl: do what "pg_ctl stop -m fast" does.
		kill -INT "$RUNNING_PID"
		local deadline=$((SECONDS + 60))
		while kill -0 "$RUNNING_PID" 2>/dev/null; do
			((SECONDS < deadline)) || die "server (pid $RUNNING_PID) did not stop within 60s"
			sleep 0.2
		done
	fi
}

# ---------------------------------------------------------------------------
# Commands

cmd_url() {
	acquire_lock
	locate_existing
	if is_running; then
		if [[ $RUNNING_PORT == "$PORT" ]] || ((!PORT_EXPLICIT)); then
			PORT=$RUNNING_PORT
			# Fast path. pg_isready is found without touching apt.
			find_bins "$(cat "$PGDATA_DIR/PG_VERSION" 2>/dev/null || true)" || PG_ISREADY=$(command -v pg_isready || true)
			if wait_ready "$PORT"; then
				url_for "$PORT"
				return 0
			fi
			die "cluster in $PGDATA_DIR runs (pid $RUNNING_PID) but does not accept connections on 127.0.0.1:$PORT (see $LOG_FILE)"
		fi
		log "cluster runs on port $RUNNING_PORT but PG_PRIVATE_PORT=$PORT; restarting it"
		stop_cluster
	fi

	local want='' have
	if [[ -f $PGDATA_DIR/PG_VERSION ]]; then want=$(<"$PGDATA_DIR/PG_VERSION"); fi
	need_bins "$want"
	choose_base
	if [[ -f $PGDATA_DIR/PG_VERSION ]]; then
		want=$(<"$PGDATA_DIR/PG_VERSION")
		find_bins "$want" || true
		have=$(pg_major "$POSTGRES")
		if [[ $have != "$want" ]]; then
			die "$PGDATA_DIR was created by PostgreSQL $want but the binaries found are PostgreSQL $have: install postgresql-$want, or remove the data dir (rm -rf $PGDATA_DIR) to recreate it"
		fi
	else
		init_cluster
	fi
	start_cluster
	url_for "$PORT"
}

# createdb NAME: ensure the cluster runs and has database NAME (idempotent).
cmd_createdb() {
	local name=${1:-} url psql
	[[ $name =~ ^[a-z_][a-z0-9_]*$ ]] || die "createdb needs a database name of lower-case letters, digits and _"
	url=$(cmd_url)
	locate_existing
	find_bins "$(cat "$PGDATA_DIR/PG_VERSION" 2>/dev/null || true)" || true
	psql=$(dirname -- "$(readlink -f -- "${PG_CTL:-/nonexistent}")")/psql
	[[ -x $psql ]] || psql=$(command -v psql || true)
	[[ -n $psql ]] || die "psql not found: install postgresql-client"
	if [[ -z $("$psql" "$url" -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'") ]]; then
		"$psql" "$url" -qc "CREATE DATABASE $name" >&2
		log "created database $name"
	fi
}

cmd_stop() {
	if [[ ! -d $DATA_AREA ]]; then
		log "not running (no $DATA_AREA)"
		return 0
	fi
	acquire_lock
	locate_existing
	if ! is_running; then
		log "not running (data $PGDATA_DIR)"
		return 0
	fi
	log "stopping PostgreSQL (pid $RUNNING_PID, data $PGDATA_DIR)"
	stop_cluster
}

cmd_status() {
	locate_existing
	if is_running; then
		printf 'running: pid %s, port %s, data %s, url %s\n' \
			"$RUNNING_PID" "$RUNNING_PORT" "$PGDATA_DIR" "$(url_for "$RUNNING_PORT")"
		return 0
	fi
	if [[ -f $PGDATA_DIR/PG_VERSION ]]; then
		printf 'not running (data %s)\n' "$PGDATA_DIR"
	else
		printf 'not running (no cluster initialised yet)\n'
	fi
	return 3
}

case ${1:-} in
url) cmd_url ;;
createdb) cmd_createdb "${2:-}" ;;
stop) cmd_stop ;;
status) cmd_status ;;
-h | --help | help) usage ;;
*)
	usage >&2
	exit 2
	;;
esac
