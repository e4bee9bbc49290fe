"""DuckDB side of `dealflow bench metrics`.

  python metrics.py --sqlite FILE --duckdb FILE --cold FROM:TO --warm FROM:TO,FROM:TO,...

Loads the facts of a dealflow SQLite workspace into a DuckDB database file
(once: an existing file is reused), then, in a fresh connection, computes the
docs/metrics.md activity and stage metrics (metrics_sql.py) for the cold period and
then for each warm period. Prints one JSON line: load time, cold time, warm
times, peak RSS and the cold period's figures. Times in ms, periods in Unix ms.
"""

import argparse
import csv
import json
import os
import resource
import sqlite3
import sys
import tempfile
import time

import duckdb

import metrics_sql

# The facts metric_facts() loads: live deals, their events in log order,
# live outreach to live people, every stage with its position.
EXPORTS = {
    "stages": "SELECT pipeline_id, id, position, milestone FROM stages",
    "deals": """SELECT id, pipeline_id, value, currency, contract_months, owner_id, source, created_at, status, closed_at
                FROM deals WHERE deleted_at IS NULL""",
    "events": """SELECT e.deal_id, row_number() OVER (PARTITION BY e.deal_id ORDER BY e.at, e.id), e.at, e.kind,
                   CASE WHEN e.kind = 'enter' THEN e.stage_id END
                 FROM stage_events e JOIN deals d ON d.id = e.deal_id WHERE d.deleted_at IS NULL""",
    "outreach": """SELECT o.person_id, o.campaign_id, o.channel, o.sent_at, o.replied_at, o.sentiment
                   FROM outreach_messages o JOIN people p ON p.id = o.person_id
                   WHERE o.deleted_at IS NULL AND p.deleted_at IS NULL""",
}


def load(sqlite_path, duck_path):
    """Exports the facts to CSV with the stdlib sqlite3 module and loads them."""
    tmp = duck_path + ".loading"
    if os.path.exists(tmp):
        os.remove(tmp)
    src = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    con = duckdb.connect(tmp)
    metrics_sql.create_tables(con, "BIGINT")
    with tempfile.TemporaryDirectory() as d:
        for table, sql in EXPORTS.items():
            path = os.path.join(d, f"{table}.csv")
            with open(path, "w", newline="") as f:
                csv.writer(f).writerows(src.execute(sql))
            con.execute(f"COPY {table} FROM '{path}' (HEADER false, NULLSTR '')")
    base = src.execute("SELECT base_currency FROM settings WHERE id = 1").fetchone()[0]
    con.execute("CREATE TABLE meta AS SELECT ? AS base_currency", [base])
    con.close()
    src.close()
    os.replace(tmp, duck_path)


def peak_rss_kb():
    """VmHWM of this process. Not ru_maxrss: on Linux that keeps the high-water
    mark of the process that spawned this one (dealflow's bench)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def periods(text):
    return [tuple(int(x) for x in p.split(":")) for p in text.split(",") if p]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sqlite", required=True)
    ap.add_argument("--duckdb", required=True)
    ap.add_argument("--cold", required=True)
    ap.add_argument("--warm", default="")
    a = ap.parse_args()

    load_s = None
    if not os.path.exists(a.duckdb) or os.path.getmtime(a.duckdb) < os.path.getmtime(a.sqlite):
        t = time.perf_counter()
        load(a.sqlite, a.duckdb)
        load_s = time.perf_counter() - t
        print(f"duckdb: loaded the facts in {load_s:.1f} s", file=sys.stderr)

    # Cold: the first question this connection answers (the file may sit in
    # the OS page cache, as dealflow's SQLite file does).
    (f, t), = periods(a.cold)
    start = time.perf_counter()
    con = duckdb.connect(a.duckdb, read_only=True)
    base = con.execute("SELECT base_currency FROM meta").fetchone()[0]
    activity, stages = metrics_sql.compute(con, f, t, base)
    cold_ms = (time.perf_counter() - start) * 1000

    warm = []
    for f2, t2 in periods(a.warm):
        s = time.perf_counter()
        metrics_sql.compute(con, f2, t2, base)
        warm.append((time.perf_counter() - s) * 1000)
    con.close()

    out = {
        "vectors_ok": os.environ.get("DEALFLOW_VECTORS_OK", "not checked"),
        "load_s": load_s,
        "cold_ms": cold_ms,
        "warm_ms": warm,
        "threads": duckdb.connect().execute("SELECT current_setting('threads')").fetchone()[0],
        "duckdb_version": duckdb.__version__,
        "peak_rss_kb": peak_rss_kb(),
        "activity": activity,
        "stages": stages,
    }
    print(json.dumps(out, default=float))


if __name__ == "__main__":
    main()
