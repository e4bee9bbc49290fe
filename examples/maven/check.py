#!/usr/bin/env python3
"""Independent pipeline metrics of the Maven data set, straight from the CSV.

Prints, as JSON, the figures `dealflow metrics --from FROM --to TO --json`
gives after `examples/maven/import.sh`, computed here with the formulas of
docs/metrics.md and nothing from dealflow, so a human can compare the two:

    examples/maven/check.py examples/maven/data 2016-10-01 2018-01-01
    dealflow --database sqlite:/tmp/maven.db metrics --from 2016-10-01 --to 2018-01-01 --json

Stdlib only. The same readings as crates/cli/tests/maven_metrics.rs:
- A date is midnight of that day in the workspace time zone, both in the
  file (the mapping names no time zone) and as a bound; the period is
  [FROM, TO), TO exclusive. Computed here in UTC, the default: in any other
  zone the counts and money are the same, and so is the sales cycle unless a
  daylight-saving change lies between a deal's two dates.
- `created_at` is `engage_date` (nothing earlier is known); `closed_at` is
  `close_date`; a won deal's value is `close_value` USD, in cents.
- Prospecting rows have no date at all: dealflow creates them at import time,
  so they lie after any past period and count in none of its figures.
- Every Won/Lost row has an `engage_date`, so every closed deal reached
  Engaging (and Prospecting, which comes before it): `stage_conversion` of
  both stages is won / closed among deals closed in the period.
- No `contract_months` in the export: each won deal counts as one year, so
  `acv` equals `avg_deal_value`.
- `open_deals` is the state at the instant TO: created before TO and not
  closed before TO (a deal closed exactly at TO is still open at TO).
"""

import csv
import datetime
import json
import os
import sys

DAY_MS = 86_400_000


def ms(day):
    """Midnight UTC of a YYYY-MM-DD day, as Unix milliseconds."""
    d = datetime.datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) * 1000


def pct(num, den):
    return None if den == 0 else num / den * 100


def mean(xs):
    return None if not xs else sum(xs) / len(xs)


def figures(rows, start, end):
    lo, hi = ms(start), ms(end)
    won, lost, pipeline, open_at_to = [], 0, 0, 0
    for r in rows:
        created = ms(r["engage_date"]) if r["engage_date"] else None
        closed = ms(r["close_date"]) if r["close_date"] else None
        if created is None:
            continue  # Prospecting: no known date, created at import time
        if closed is not None and lo <= closed < hi:
            if r["deal_stage"] == "Won":
                won.append((int(r["close_value"]) * 100, (closed - created) / DAY_MS))
            else:
                lost += 1
        if created < hi and (closed is None or closed >= lo):
            pipeline += 1
        if created < hi and (closed is None or closed >= hi):
            open_at_to += 1
    values = [v for v, _ in won]
    win_rate = pct(len(won), len(won) + lost)
    avg = mean(values)
    cycle = mean([c for _, c in won])
    velocity = None
    if avg is not None and win_rate is not None and cycle:
        velocity = open_at_to * avg * (win_rate / 100) / cycle
    conversion = pct(len(won), len(won) + lost)
    return {
        "period": {"from": start, "to": end, "time_zone": "UTC"},
        "currency": "USD",
        "deals_won": len(won),
        "deals_lost": lost,
        "won_value": sum(values),
        "win_rate": win_rate,
        "pipeline_deals": pipeline,
        "close_rate": pct(len(won), pipeline),
        "avg_deal_value": avg,
        "acv": mean([v / 1.0 for v in values]),
        "sales_cycle_days": cycle,
        "open_deals": open_at_to,
        "sales_velocity": velocity,
        "stage_conversion": {"Prospecting": conversion, "Engaging": conversion},
    }


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: check.py DATA_DIR FROM TO   (dates YYYY-MM-DD, TO exclusive)")
    data, start, end = sys.argv[1:]
    with open(os.path.join(data, "sales_pipeline.csv"), newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    print(json.dumps(figures(rows, start, end), indent=2))


if __name__ == "__main__":
    main()
