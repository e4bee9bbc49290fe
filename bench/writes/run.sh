#!/usr/bin/env bash
# Concurrent creates: `POST /api/v1/deals` from 16 connections for
# 20 seconds (after a 5-second warm-up) against `dealflow serve` on a fresh
# SQLite file, driven by wrk over loopback. Prints req/s, p50, p99 and max.
#
#   bench/writes/run.sh [BINARY [BINARY…]]
#
# Each binary (default target/release/dealflow) is measured in turn, so two
# builds compare in one run. wrk comes from Debian's packages and is
# installed when missing (as root). With DATABASE=postgres://… (an empty
# database, one binary) the server runs on PostgreSQL instead; CONNECTIONS
# sets the number of connections (default 16).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v wrk >/dev/null; then
  apt-get install -y wrk >/dev/null
fi
[ $# -gt 0 ] || set -- "$here/../../target/release/dealflow"
port=18181
conns=${CONNECTIONS:-16}
for bin in "$@"; do
  dir=$(mktemp -d)
  db=${DATABASE:-"sqlite:$dir/writes.db"}
  echo "load password" | "$bin" --database "$db" user add --email load@example.com --name Load --role admin \
    --password-stdin >/dev/null 2>&1
  TOKEN=$("$bin" --database "$db" token create --user load@example.com 2>/dev/null | tail -1)
  export TOKEN
  "$bin" --database "$db" serve --bind "127.0.0.1:$port" >"$dir/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.2; done
  wrk -t2 -c"$conns" -d5s -s "$here/post.lua" "http://127.0.0.1:$port" >/dev/null 2>&1 || true
  printf "%s, %s connections: " "$bin" "$conns"
  wrk -t2 -c"$conns" -d20s -s "$here/post.lua" "http://127.0.0.1:$port" | tail -1
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
  port=$((port + 1))
done
