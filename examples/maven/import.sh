#!/usr/bin/env bash
# Imports the Maven Analytics "CRM Sales Opportunities" data set into a
# dealflow workspace: accounts become organizations, then the pipeline's
# opportunities become deals (agents become rep users, products a deal
# custom field, the Maven pipeline is created). Safe to run again: the
# second run updates instead of duplicating. See docs/import.md.
#
#   examples/maven/import.sh DATABASE_URL [DATA_DIR] [--dry-run]
#   e.g. examples/maven/import.sh sqlite:/tmp/maven.db
# DATA_DIR defaults to the copy shipped beside this script (data/).
set -euo pipefail

if [ $# -lt 1 ]; then
    echo "usage: $0 DATABASE_URL [DATA_DIR] [--dry-run]" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
db=$1
shift
data="$here/data"
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then
    data=$1
    shift
fi

# The built binary when it is on PATH, else a release build of this tree.
if command -v dealflow >/dev/null 2>&1; then
    dealflow=(dealflow)
else
    dealflow=(cargo run --quiet --release --manifest-path "$here/../../Cargo.toml" -p dealflow --)
fi

"${dealflow[@]}" --database "$db" import organizations "$data/accounts.csv" --mapping "$here/organizations.json" "$@"
"${dealflow[@]}" --database "$db" import deals "$data/sales_pipeline.csv" --mapping "$here/deals.json" "$@"
