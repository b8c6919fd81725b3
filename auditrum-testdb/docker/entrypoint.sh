#!/bin/sh
# Entrypoint of the locally built `postgres:15` image (build-postgres-image): the parts of
# the official image's entrypoint that the testcontainers Postgres module relies on.
# - POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB, POSTGRES_HOST_AUTH_METHOD;
# - a first start with an empty data directory initializes the cluster with a temporary
#   server whose log goes to stdout, then the real server logs to stderr: the module waits
#   for "database system is ready to accept connections" on both;
# - arguments starting with `-` are the server's (`docker run … -c fsync=off`).
set -eu

PGBIN=/usr/lib/postgresql/15/bin
export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
SOCKETS=/var/run/postgresql

if [ "${1#-}" != "$1" ]; then
    set -- postgres "$@"
fi
if [ "$1" != postgres ]; then
    exec "$@"
fi

# PostgreSQL refuses to run as root: prepare the directories, then run this script again
# as the postgres user.
if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA" "$SOCKETS"
    chown postgres:postgres "$PGDATA" "$SOCKETS"
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
shift

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    user="${POSTGRES_USER:-postgres}"
    auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
    if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth" != trust ]; then
        echo "entrypoint: set POSTGRES_PASSWORD, or POSTGRES_HOST_AUTH_METHOD=trust" >&2
        exit 1
    fi
    pwfile="$(mktemp)"
    printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
    "$PGBIN/initdb" -D "$PGDATA" -U "$user" --pwfile="$pwfile" -E UTF8 --locale=C \
        --auth-local=trust --auth-host="$auth" >/dev/null
    rm -f "$pwfile"
    echo "host all all all $auth" >>"$PGDATA/pg_hba.conf"

    # The temporary server: socket only, its log on stdout (pg_ctl without -l).
    "$PGBIN/pg_ctl" -D "$PGDATA" -w -o "-c listen_addresses='' -k $SOCKETS" start
    db="${POSTGRES_DB:-$user}"
    if [ "$db" != postgres ]; then
        "$PGBIN/psql" -v ON_ERROR_STOP=1 -h "$SOCKETS" -U "$user" -d postgres \
            -c "CREATE DATABASE \"$db\""
    fi
    for script in /docker-entrypoint-initdb.d/*.sql; do
        [ -e "$script" ] || continue
        "$PGBIN/psql" -v ON_ERROR_STOP=1 -h "$SOCKETS" -U "$user" -d "$db" -f "$script"
    done
    "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop
fi

exec "$PGBIN/postgres" -D "$PGDATA" -c listen_addresses='*' -k "$SOCKETS" "$@"
