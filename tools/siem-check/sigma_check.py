#!/usr/bin/env python3
"""Load a Sigma rule file with pySigma and convert it with backends that support correlations.

Usage: sigma_check.py RULES.yml
Exits 0 when every rule loads without error and the correlation rules convert; 1 otherwise.
Prints each backend's output so a reader can see what the SIEM would run.
"""
import json
import sqlite3
import sys

from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule


def main(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    # collect_errors=True gathers every problem instead of stopping at the first, so the report
    # names them all; any error fails the check.
    rules = SigmaCollection.from_yaml(text, collect_errors=True)
    errors = [e for r in rules for e in r.errors]
    for e in errors:
        print(f"sigma-check: error: {e}")
    correlations = [r for r in rules if isinstance(r, SigmaCorrelationRule)]
    print(f"sigma-check: {len(rules.rules)} rule(s) loaded, {len(correlations)} correlation(s), {len(errors)} error(s)")
    if errors or not correlations:
        return 1

    # pySigma-backend-sqlite (Zircolite's) implements temporal_ordered and aliases.
    from sigma.backends.sqlite import sqliteBackend

    queries = sqliteBackend().convert(rules)
    print(f"sigma-check: sqlite backend: {len(queries)} correlation query(ies)")
    # Run the converted SQL over a few events, so "converted" means "computes the pair".
    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE TABLE logs (timestamp TEXT, Computer TEXT, EventID INTEGER, Provider_Name TEXT,"
        " ServiceName TEXT, ObjectServer TEXT, ObjectType TEXT, ObjectName TEXT, AccessMask TEXT,"
        " UserID TEXT, SubjectUserSid TEXT, SubjectLogonId TEXT)"
    )
    sid = "S-1-5-21-1-2-3-1104"
    rows = [
        # WKS01: installed by 7045 and 4697, opened with DELETE an hour later: both rules fire.
        ("2024-01-01 10:00:00", "WKS01", 7045, "Service Control Manager", "abcd", None, None, None, None, sid, None, None),
        ("2024-01-01 10:00:00.001", "WKS01", 4697, None, "abcd", None, None, None, None, None, sid, "0x2a"),
        ("2024-01-01 11:00:00", "WKS01", 4674, None, None, "SC Manager", "SERVICE OBJECT", "abcd", "%%1537 %%1538", None, sid, "0x2a"),
        # WKS02: an install, and a DELETE-capable open of another service: no pair.
        ("2024-01-01 10:00:00", "WKS02", 7045, "Service Control Manager", "efgh", None, None, None, None, sid, None, None),
        ("2024-01-01 10:05:00", "WKS02", 4674, None, None, "SC Manager", "SERVICE OBJECT", "RemoteRegistry", "%%1537", None, sid, "0x2b"),
    ]
    db.executemany("INSERT INTO logs VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    alerts = []
    for q in queries:
        alerts.extend(db.execute(q).fetchall())
    keys = sorted(json.loads(a[1])["Computer"] + "/" + json.loads(a[1])["service"] for a in alerts)
    print(f"sigma-check: sqlite run: {len(alerts)} alert(s): {keys}")
    if keys != ["wks01/abcd", "wks01/abcd"]:
        print("sigma-check: error: expected one alert per correlation for WKS01/abcd and none for WKS02")
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
