# A throwaway PostgreSQL server for tests and the demo. Source it, then:
#   throwaway_postgres_start   # sets THROWAWAY_PG_DIR and THROWAWAY_PG_CONNINFO
#   throwaway_postgres_stop    # stops the server and deletes its directory (idempotent)
# The cluster lives in a fresh temporary directory and listens only on a Unix socket in
# that directory, so it never collides with another server. PostgreSQL refuses to run as
# root: when invoked as root, the server runs as the `postgres` user.

throwaway_postgres_bindir() {
    if [ -n "${PG_BINDIR:-}" ]; then echo "$PG_BINDIR"; return; fi
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

# Runs a command as the server's owner: `postgres` when we are root, else ourselves.
throwaway_postgres_as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

throwaway_postgres_start() {
    local bindir
    bindir=$(throwaway_postgres_bindir)
    if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
        echo "throwaway-postgres: no PostgreSQL server binaries found (apt-get install postgresql)" >&2
        return 1
    fi
    THROWAWAY_PG_DIR=$(mktemp -d /tmp/forecastd-pg.XXXXXX)
    chmod 755 "$THROWAWAY_PG_DIR"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$THROWAWAY_PG_DIR"
    throwaway_postgres_as_owner "$bindir/initdb" -D "$THROWAWAY_PG_DIR/data" -U postgres \
        --auth=trust --encoding=UTF8 --no-locale --no-sync >"$THROWAWAY_PG_DIR/initdb.log" 2>&1 || {
        cat "$THROWAWAY_PG_DIR/initdb.log" >&2
        return 1
    }
    # Durability is pointless for a throwaway cluster: fsync off makes tests faster.
    throwaway_postgres_as_owner "$bindir/pg_ctl" -D "$THROWAWAY_PG_DIR/data" \
        -l "$THROWAWAY_PG_DIR/server.log" -w -t 60 \
        -o "-c listen_addresses='' -k $THROWAWAY_PG_DIR -p 5432 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null || {
        cat "$THROWAWAY_PG_DIR/server.log" >&2
        return 1
    }
    THROWAWAY_PG_CONNINFO="host=$THROWAWAY_PG_DIR port=5432 user=postgres dbname=postgres"
    export THROWAWAY_PG_DIR THROWAWAY_PG_CONNINFO
    echo "throwaway PostgreSQL running: $THROWAWAY_PG_CONNINFO" >&2
}

throwaway_postgres_stop() {
    [ -n "${THROWAWAY_PG_DIR:-}" ] && [ -d "$THROWAWAY_PG_DIR" ] || return 0
    local bindir
    bindir=$(throwaway_postgres_bindir)
    throwaway_postgres_as_owner "$bindir/pg_ctl" -D "$THROWAWAY_PG_DIR/data" -m immediate -w stop \
        >/dev/null 2>&1 || true
    rm -rf "$THROWAWAY_PG_DIR"
    THROWAWAY_PG_DIR=
}
