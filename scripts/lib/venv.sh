# The Python virtual environment of the API fuzz test (schemathesis);
# sourced by scripts/test, or run directly: scripts/lib/venv.sh.
#
# venv_ensure creates target/test-venv from scripts/test-requirements.txt
# when it is missing or the requirements changed since it was made (their
# SHA-256 is kept beside it), and exports DEALFLOW_TEST_VENV, where the
# test finds `bin/schemathesis`. DEALFLOW_TEST_PYTHON picks the interpreter;
# by default the first Python 3.12 or newer found (python3.13, python3.12,
# pyenv's versions, python3): CPython 3.11 can fail inside hypothesis with
# "SystemError: AST constructor recursion depth mismatch", a CPython bug.

venv_python() {
    local p
    for p in python3.13 python3.12 "$(pyenv root 2>/dev/null)"/versions/3.1[2-9]*/bin/python3 python3; do
        if "$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then
            echo "$p"
            return 0
        fi
    done
    echo "no Python 3.12 or newer found; using python3 (set DEALFLOW_TEST_PYTHON to choose)" >&2
    echo python3
}

venv_ensure() {
    local root req dir sum python
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
    req="$root/scripts/test-requirements.txt"
    dir="$root/target/test-venv"
    python="${DEALFLOW_TEST_PYTHON:-$(venv_python)}"
    sum="$(sha256sum "$req" | cut -d' ' -f1)"
    if [ ! -x "$dir/bin/schemathesis" ] || [ "$(cat "$dir/.requirements-sha256" 2>/dev/null)" != "$sum" ]; then
        echo "creating $dir from scripts/test-requirements.txt" >&2
        rm -rf "$dir"
        "$python" -m venv "$dir" || { echo "cannot create a virtual environment with $python (Debian: apt-get install python3-venv)" >&2; return 1; }
        "$dir/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$req" \
            || { rm -rf "$dir"; echo "installing scripts/test-requirements.txt failed" >&2; return 1; }
        echo "$sum" >"$dir/.requirements-sha256"
    fi
    export DEALFLOW_TEST_VENV="$dir"
}

# Run directly: make the environment and say where it is.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    venv_ensure
    echo "DEALFLOW_TEST_VENV=$DEALFLOW_TEST_VENV"
fi
