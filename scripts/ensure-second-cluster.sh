#!/usr/bin/env bash
# Makes sure the second PostgreSQL server answers on 127.0.0.1:$SECOND_PG_PORT
# (default 5433): the "other region" where database-per-tenant tenants live.
# When nothing answers there it creates (if missing) and starts the Debian
# cluster `tenants` of the installed major version, listening on loopback only,
# with trust authentication for every local and loopback login (a throwaway
# test server, like the first one). Also makes sure its `test` database exists.
#
# Idempotent and safe to run concurrently: the work happens under a flock on a
# file in /tmp. Needs root (pg_createcluster/pg_ctlcluster act as postgres).
# Prints one line saying what it did; the tools' own output only on failure.
set -euo pipefail

HOST=127.0.0.1
PORT=${SECOND_PG_PORT:-5433}
CLUSTER=tenants
DATABASE=test
WAIT_SECONDS=60
LOCK_FILE=/tmp/ensure-second-cluster-${PORT}.lock

answers() {
  pg_isready -q -h "$HOST" -p "$PORT" -U postgres -d postgres
}

# Logs in over TCP without a password (-w): fails unless trust applies.
has_database() {
  [[ "$(psql -w -h "$HOST" -p "$PORT" -U postgres -d postgres -Atc \
    "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'" 2>/dev/null)" == 1 ]]
}

# Fast path, no lock: the server answers and is fully set up.
if answers && has_database; then
  echo "second PostgreSQL answers on $HOST:$PORT (database $DATABASE present): nothing to do"
  exit 0
fi

exec 9>>"$LOCK_FILE"
if ! flock -w 300 9; then
  echo "could not lock $LOCK_FILE within 300s" >&2
  exit 1
fi

# Runs a command quietly; on failure shows its output and stops. The command
# does not inherit the lock's descriptor: the server pg_ctlcluster starts
# would otherwise keep the lock held for as long as it runs.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
quietly() {
  if ! "$@" >"$log" 2>&1 9>&-; then
    echo "failed: $*" >&2
    cat "$log" >&2
    exit 1
  fi
}

did=()
if ! answers; then
  # "Ver Cluster Port Status ..." of an existing cluster of that name.
  read -r version _ port _ < <(pg_lsclusters -h | awk -v c="$CLUSTER" '$2 == c' | head -n 1) || true
  if [[ -z "${version:-}" ]]; then
    version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
    # An explicit --auth-* after `--` makes pg_createcluster leave initdb's
    # pg_hba.conf alone (trust for local, 127.0.0.1/32 and ::1/128) instead of
    # rewriting it to peer (socket) and scram-sha-256 (TCP).
    quietly pg_createcluster --port "$PORT" --locale C.UTF-8 --encoding UTF8 \
      -o "listen_addresses=127.0.0.1,::1" -o max_connections=200 \
      -o shared_buffers=32MB \
      "$version" "$CLUSTER" -- --auth-host=trust --auth-local=trust
    did+=("created cluster $version/$CLUSTER")
  elif [[ "$port" != "$PORT" ]]; then
    echo "cluster $version/$CLUSTER exists but is configured for port $port, not $PORT" >&2
    exit 1
  fi
  if [[ "$(pg_lsclusters -h | awk -v v="$version" -v c="$CLUSTER" '$1 == v && $2 == c {print $4}')" != online* ]]; then
    quietly pg_ctlcluster --skip-systemctl-redirect "$version" "$CLUSTER" start
    did+=("started cluster $version/$CLUSTER")
  fi
  for ((i = 0; i < WAIT_SECONDS; i++)); do
    answers && break
    sleep 1
  done
  if ! answers; then
    echo "PostgreSQL did not answer on $HOST:$PORT within ${WAIT_SECONDS}s" >&2
    exit 1
  fi
fi

if ! has_database; then
  quietly createdb -w -h "$HOST" -p "$PORT" -U postgres "$DATABASE"
  did+=("created database $DATABASE")
fi

if ((${#did[@]} == 0)); then
  did=("nothing to do")
fi
summary="$(printf '%s, ' "${did[@]}")"
echo "second PostgreSQL on $HOST:$PORT: ${summary%, }"
