# Throwaway PostgreSQL for the test suite; sourced by scripts/test.
#
# pg_start installs the server from Debian's packages when it is missing,
# creates a cluster in a temporary folder, starts it on a free loopback port
# and exports DEALFLOW_TEST_POSTGRES (an admin URL). pg_stop stops it and
# removes the folder; scripts/test calls it from an EXIT trap, so it also
# runs when a test fails or the run is interrupted.

pg_bindir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

# Runs a command as the postgres user when we are root (initdb refuses root).
as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_install() {
    echo "PostgreSQL server not found; installing it from Debian's packages" >&2
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
    # Debian's package starts a cluster of its own; the tests do not use it.
    $sudo pg_ctlcluster --force "$(basename "$(dirname "$(pg_bindir)")")" main stop >/dev/null 2>&1 || true
}

pg_free_port() {
    local p
    for p in $(seq 55432 55632); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

pg_start() {
    [ -n "$(pg_bindir)" ] || pg_install
    local bin
    bin="$(pg_bindir)"
    [ -n "$bin" ] || { echo "PostgreSQL could not be installed" >&2; return 1; }
    PG_TMP="$(mktemp -d /tmp/dealflow-pg.XXXXXX)"
    [ "$(id -u)" = 0 ] && chown postgres "$PG_TMP"
    PG_PORT="$(pg_free_port)"
    as_pg "$bin/initdb" -D "$PG_TMP/data" -A trust -U postgres --no-sync >"$PG_TMP/initdb.log" 2>&1 \
        || { cat "$PG_TMP/initdb.log" >&2; return 1; }
    # fsync off: the cluster is thrown away, durability buys nothing here.
    as_pg "$bin/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w -t 30 \
        -o "-p $PG_PORT -k $PG_TMP -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
        start >/dev/null || { cat "$PG_TMP/server.log" >&2; return 1; }
    export DEALFLOW_TEST_POSTGRES="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
    export DEALFLOW_TEST_PG_BIN="$bin"
    echo "throwaway PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
}

pg_stop() {
    if [ -n "${PG_TMP:-}" ] && [ -d "$PG_TMP" ]; then
        as_pg "$(pg_bindir)/pg_ctl" -D "$PG_TMP/data" -m immediate stop >/dev/null 2>&1 || true
        rm -rf "$PG_TMP"
    fi
}
