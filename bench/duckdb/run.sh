#!/usr/bin/env bash
# DuckDB side of `dealflow bench metrics`: makes a Python virtual environment
# with duckdb from PyPI (target/bench-venv, once), checks that the SQL
# reproduces the metric test vectors, then runs metrics.py with the
# arguments given (see metrics.py). The last line of stdout is its JSON.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${DEALFLOW_BENCH_VENV:-$root/target/bench-venv}"
if ! command -v python3 >/dev/null; then
    echo "python3 is not installed: the DuckDB comparison needs it" >&2
    exit 3
fi
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import duckdb' 2>/dev/null; then
    echo "duckdb: creating $venv and installing duckdb from PyPI" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check duckdb >&2
fi
vectors="${DEALFLOW_METRICS_CASES:-$root/testdata/metrics-cases}"
if [ -d "$vectors" ]; then
    echo "duckdb: checking the SQL against the test vectors in $vectors" >&2
    if "$venv/bin/python" "$here/vectors.py" "$vectors" >&2; then
        export DEALFLOW_VECTORS_OK=yes
    else
        export DEALFLOW_VECTORS_OK=no
    fi
fi
exec "$venv/bin/python" "$here/metrics.py" "$@"
