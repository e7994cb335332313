#!/usr/bin/env bash
# A local PostgreSQL for the test run: installs it from Debian's packages when missing,
# creates (once) and starts a cluster named `pennon` on a free port, creates the role
# and database `pennon`, and prints the URL.
#
#   scripts/postgres.sh [start]   start (idempotent); print the URL on stdout. Drops the
#                                 databases `pennon_t_*` earlier test runs left behind
#   scripts/postgres.sh env       start; print `export DATABASE_URL=...` and
#                                 `export PENNON_TEST_DATABASE_URL=...` for `eval`
#   scripts/postgres.sh stop      stop the cluster (no server outlives the test run)
#
#   export PENNON_TEST_DATABASE_URL="$(scripts/postgres.sh)"
#   trap 'scripts/postgres.sh stop' EXIT
#
# As root (CI), the cluster is a Debian cluster (pg_createcluster) named `pennon` (or
# $PENNON_PG_CLUSTER) run by the `postgres` user; otherwise it lives in target/postgres (or $PENNON_PG_DIR) and runs as the
# current user. The role
# may create databases: the server tests make one per test. Progress goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."

action="${1:-start}"
name=pennon
# As root, the Debian cluster's name. Two test runs at once on one machine (two checkouts,
# two engineers) each set their own, since a start drops the other run's test databases.
cluster="${PENNON_PG_CLUSTER:-pennon}"
password=pennon
state_dir="${PENNON_PG_DIR:-$PWD/target/postgres}"

log() { printf '%s\n' "postgres.sh: $*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root or sudo to run: $*"; exit 1
  fi
}

install_if_missing() {
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    log "installing PostgreSQL from Debian's packages"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  fi
  version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
  bin="/usr/lib/postgresql/$version/bin"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Runs psql as the cluster's superuser; $1 is the port.
superuser_psql() {
  local port="$1"; shift
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- psql -X -q -p "$port" -v ON_ERROR_STOP=1 "$@"
  else
    psql -X -q -h "$state_dir" -p "$port" -d postgres -v ON_ERROR_STOP=1 "$@"
  fi
}

start_root() {
  if ! pg_lsclusters -h | awk -v v="$version" -v n="$cluster" '$1 == v && $2 == n { found = 1 } END { exit !found }'; then
    port="$(free_port)"
    log "creating cluster $version/$cluster on port $port"
    # Every server test makes its own database and pool: allow plenty of connections.
    pg_createcluster -p "$port" -o max_connections=300 "$version" "$cluster" -- \
      --auth-local=peer --auth-host=scram-sha-256 >&2
  fi
  port="$(pg_lsclusters -h | awk -v v="$version" -v n="$cluster" '$1 == v && $2 == n { print $3 }')"
  if ! pg_lsclusters -h | awk -v v="$version" -v n="$cluster" '$1 == v && $2 == n && $4 == "online" { found = 1 } END { exit !found }'; then
    log "starting cluster $version/$cluster on port $port"
    pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start >&2
  fi
}

start_user() {
  mkdir -p "$state_dir"
  if [ ! -f "$state_dir/data/PG_VERSION" ]; then
    log "creating a cluster in $state_dir/data"
    "$bin/initdb" -D "$state_dir/data" --auth-local=trust --auth-host=scram-sha-256 -U "$(id -un)" >&2
    free_port > "$state_dir/port"
  fi
  port="$(cat "$state_dir/port")"
  if ! "$bin/pg_ctl" -D "$state_dir/data" status >/dev/null 2>&1; then
    log "starting the cluster in $state_dir on port $port"
    "$bin/pg_ctl" -D "$state_dir/data" -l "$state_dir/log" -w \
      -o "-p $port -k $state_dir -c listen_addresses=127.0.0.1 -c max_connections=300" start >&2
  fi
}

start() {
  install_if_missing
  if [ "$(id -u)" -eq 0 ]; then start_root; else start_user; fi
  superuser_psql "$port" <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$name') THEN
    CREATE ROLE $name LOGIN CREATEDB PASSWORD '$password';
  END IF;
END \$\$;
SQL
  if [ -z "$(superuser_psql "$port" -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'")" ]; then
    superuser_psql "$port" -c "CREATE DATABASE $name OWNER $name"
  fi
  url="postgres://$name:$password@127.0.0.1:$port/$name"
  local leftovers
  leftovers="$(superuser_psql "$port" -tAc "SELECT datname FROM pg_database WHERE datname LIKE 'pennon\_t\_%'")"
  if [ -n "$leftovers" ]; then
    log "dropping $(printf '%s\n' "$leftovers" | wc -l) test databases of earlier runs"
    for db in $leftovers; do superuser_psql "$port" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"; done
  fi
}

stop() {
  install_if_missing
  if [ "$(id -u)" -eq 0 ]; then
    if pg_lsclusters -h | awk -v v="$version" -v n="$cluster" '$1 == v && $2 == n && $4 == "online" { found = 1 } END { exit !found }'; then
      pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" stop >&2
      log "stopped cluster $version/$cluster"
    fi
  elif [ -f "$state_dir/data/PG_VERSION" ] && "$bin/pg_ctl" -D "$state_dir/data" status >/dev/null 2>&1; then
    "$bin/pg_ctl" -D "$state_dir/data" -w stop >&2
    log "stopped the cluster in $state_dir"
  fi
}

case "$action" in
  start) start; printf '%s\n' "$url" ;;
  env) start; printf 'export DATABASE_URL=%q\nexport PENNON_TEST_DATABASE_URL=%q\n' "$url" "$url" ;;
  stop) stop ;;
  *) log "usage: $0 [start|env|stop]"; exit 2 ;;
esac
