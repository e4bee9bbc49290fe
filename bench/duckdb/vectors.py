"""Checks that the DuckDB SQL of metrics_sql.py reproduces every activity
metric and stage figure of the metric test vectors.

Usage: python vectors.py [DIR]   (default: testdata/metrics-cases of this repository)
Prints OK per world, or each difference; exits 1 when any figure differs.
Floats agree within 1e-6 relative (the vectors' tolerance); null only where null.
"""

import datetime
import glob
import json
import os
import sys

import duckdb

import metrics_sql

STAGE_KEYS = ["stage_conversion", "stage_reach", "time_in_stage_days_median", "time_in_stage_days_p90"]


def ms(v):
    if v is None:
        return None
    if len(v) == 10:
        d = datetime.datetime.strptime(v, "%Y-%m-%d").replace(tzinfo=datetime.timezone.utc)
    else:
        d = datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))
    return int(round(d.timestamp() * 1000))


def load(con, world):
    metrics_sql.create_tables(con, "VARCHAR")
    for p in world["pipelines"]:
        for i, s in enumerate(p["stages"]):
            con.execute("INSERT INTO stages VALUES (?, ?, ?, ?)", [p["id"], s["id"], i, s.get("milestone")])
    for d in world["deals"]:
        con.execute(
            "INSERT INTO deals VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [d["id"], d["pipeline"], d["value"], d["currency"], d.get("contract_months"), d["owner"], d["source"],
             ms(d["created_at"]), d["status"], ms(d.get("closed_at"))],
        )
        for i, e in enumerate(d["events"]):
            if "stage" in e:
                kind, stage = "enter", e["stage"]
            else:
                kind, stage = {"won": "won", "lost": "lost", "open": "reopen"}[e["status"]], None
            con.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?)", [d["id"], i, ms(e["at"]), kind, stage])
    for o in world["outreach"]:
        con.execute(
            "INSERT INTO outreach VALUES (?, ?, ?, ?, ?, ?)",
            [o["person"], o["campaign"], o["channel"], ms(o["sent_at"]), ms(o.get("replied_at")), o.get("sentiment")],
        )


def same(e, a):
    if e is None or a is None:
        return e is None and a is None
    e, a = float(e), float(a)
    return abs(e - a) <= 1e-6 * max(abs(e), abs(a)) or (e == 0 and abs(a) < 1e-9)


def check(path):
    world = json.load(open(path))
    con = duckdb.connect()
    load(con, world)
    diffs, figures = [], 0
    for per in world["expected"]["periods"]:
        f, t = ms(per["from"]), ms(per["to"])
        activity, stages = metrics_sql.compute(con, f, t)
        at = f"[{per['from']}..{per['to']})"
        for k, want in per["metrics"].items():
            figures += 1
            if k not in activity:
                diffs.append(f"{at} metrics.{k}: not computed")
            elif not same(want, activity[k]):
                diffs.append(f"{at} metrics.{k}: expected {want}, got {activity[k]}")
        for sid, exp in per["stages"].items():
            got = stages.get(sid)
            for k in STAGE_KEYS:
                figures += 1
                if got is None:
                    diffs.append(f"{at} stages.{sid}: missing")
                    break
                if not same(exp.get(k), got[k]):
                    diffs.append(f"{at} stages.{sid}.{k}: expected {exp.get(k)}, got {got[k]}")
    return figures, diffs


def main():
    default = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "testdata", "metrics-cases")
    folder = sys.argv[1] if len(sys.argv) > 1 else default
    files = sorted(glob.glob(os.path.join(folder, "*.json")))
    if not files:
        print(f"no vectors in {folder}")
        return 1
    bad = 0
    for path in files:
        figures, diffs = check(path)
        name = os.path.basename(path)
        if diffs:
            bad += 1
            print(f"{name}: {len(diffs)} of {figures} figures differ")
            for d in diffs:
                print(f"  {d}")
        else:
            print(f"{name}: OK ({figures} figures)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
