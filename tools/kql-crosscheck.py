#!/usr/bin/env python3
"""Cross-check `svchunt hunt --semantics kql` against an independent KQL engine.

Generates random Sentinel workspaces (rows of `Event` and `SecurityEvent`, edge cases included:
malformed or oddly laid out EventData, entities and CDATA, newlines, N/A and padded user names,
look-alike access masks, Unicode term boundaries, ties, rows differing in one column), runs the
seed query verbatim (`svchunt export --to kql-seed`) on duckdb-kql over the rows, and
`svchunt hunt --semantics kql` over the same rows exported as the query API's JSON, and reports
every workspace whose answers differ other than by the tie rule `src/kql.rs` documents.

Outside CI (it needs PyPI's duckdb-kql and a few minutes):

    python3 -m venv /tmp/kqlvenv && /tmp/kqlvenv/bin/pip install 'duckdb-kql[duckdb]'
    cargo build && /tmp/kqlvenv/bin/python tools/kql-crosscheck.py --workspaces 300

Exit status: 0 when every workspace agrees, 1 otherwise (the differing workspaces are written
under --keep, default ./kql-crosscheck-failures, as the JSON svchunt read).
"""

import argparse
import datetime as dt
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb_kql

REPO = Path(__file__).resolve().parent.parent
SCM = "Service Control Manager"

EVENT_COLUMNS = [
    ("TimeGenerated", "datetime"),
    ("Computer", "string"),
    ("Source", "string"),
    ("EventLog", "string"),
    ("EventID", "int"),
    ("UserName", "string"),
    ("EventData", "string"),
]
SECURITY_COLUMNS = [
    ("TimeGenerated", "datetime"),
    ("Computer", "string"),
    ("EventID", "int"),
    ("Activity", "string"),
    ("Account", "string"),
    ("SubjectUserSid", "string"),
    ("SubjectUserName", "string"),
    ("SubjectDomainName", "string"),
    ("ObjectServer", "string"),
    ("ObjectType", "string"),
    ("ObjectName", "string"),
    ("AccessMask", "string"),
]

HOSTS = ["WIN-A", "WIN-B", "win-a", "WIN-A.corp.local"]
USERS = ["CORP\\alice", "CORP\\bob", "N/A", "-", "CORP\\alice ", "corp\\ALICE", "NT AUTHORITY\\SYSTEM"]
SERVICES = ["PSEXESVC", "Svc", "svc", "BTOBTO", "a&amp;b", "Dienst-Ü", "x y"]
MASKS = [
    "%%1537",
    "%%1537\r\n\t\t\t\t%%1538\r\n\t\t\t\t",
    "%%1538\r\n\t\t\t\t%%1537",
    "%%15370",
    "%%1538",
    "x%%1537",
    "%%1537é",
    "%%1537\u00b7",
    "%%1537\u0663",
    "%%1537_",
    "",
]


def agent_event_data(inner: str) -> str:
    return (
        '<DataItem type="System.XmlData" time="2024-01-01T12:00:00.0000000+00:00" '
        'sourceHealthServiceId="3f1b4b0e-53a4-7c3e-9f7d-2a1c6f4e9b10">'
        '<EventData xmlns="http://schemas.microsoft.com/win/2004/08/events/event">'
        f"{inner}</EventData></DataItem>"
    )


def random_event_data(rng: random.Random, svc: str) -> str:
    exe = rng.choice(
        [
            "%SystemRoot%\\PSEXESVC.exe",
            "%COMSPEC% /Q /c echo cd ^&gt; \\\\127.0.0.1\\C$\\__output 2^&gt;^&amp;1",
            'cmd /c "a b"',
            "<![CDATA[x<y]]>",
            "&#x41;.exe",
            "",
        ]
    )
    tail = '<Data Name="ServiceType">user mode service</Data><Data Name="StartType">demand start</Data>'
    account = rng.choice(["LocalSystem", "", "Local\nSystem"]) if rng.random() < 0.3 else "LocalSystem"
    tail += f'<Data Name="AccountName">{account}</Data>'
    shape = rng.random()
    if shape < 0.6:
        inner = f'<Data Name="ServiceName">{svc}</Data><Data Name="ImagePath">{exe}</Data>{tail}'
    elif shape < 0.68:
        inner = f'<Data Name="ServiceName">{svc}</Data><Data Name="ImagePath" />{tail}'
    elif shape < 0.76:
        inner = f'<Data Name="ServiceName">{svc}</Data> <Data Name="ImagePath">{exe}</Data>{tail}'
    elif shape < 0.84:
        inner = f'<Data Name="ServiceName">{svc}</Data><Data Name="X">y</Data><Data Name="ImagePath">{exe}</Data>{tail}'
    elif shape < 0.9:
        inner = (
            f'<Data Name="ServiceName">{svc}</Data><Data Name="ImagePath">{exe}</Data>'
            f'<Data Name="ServiceName">other</Data><Data Name="ImagePath">o.exe</Data>{tail}'
        )
    elif shape < 0.95:
        inner = f'<Data Name="ImagePath">{exe}</Data>{tail}'
    else:
        inner = f'<Data Name="ServiceName">{svc}\n</Data><Data Name="ImagePath">{exe}</Data>{tail}'
    return agent_event_data(inner)


def ms(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def generate(rng: random.Random) -> dict:
    base = dt.datetime(2024, 1, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
    hosts = rng.sample(HOSTS, rng.randint(1, 3))
    users = rng.sample(USERS, rng.randint(1, 3))
    services = rng.sample(SERVICES, rng.randint(1, 4))
    events, security = [], []
    for _ in range(rng.randint(1, 6)):
        t = base + dt.timedelta(milliseconds=rng.choice([0, 0, 500, 999, rng.randint(0, 7_200_000)]))
        row = {
            "TimeGenerated": ms(t),
            "Computer": rng.choice(hosts),
            "Source": SCM if rng.random() < 0.92 else "service control manager",
            "EventLog": "System",
            "EventID": 7045,
            "UserName": rng.choice(users),
            "EventData": random_event_data(rng, rng.choice(services)),
        }
        events.append(row)
        if rng.random() < 0.15:
            # The same row again, or again with another UserName.
            twin = dict(row)
            if rng.random() < 0.5:
                twin["UserName"] = rng.choice(USERS)
            events.append(twin)
    anchors = [dt.datetime.fromisoformat(e["TimeGenerated"].replace("Z", "+00:00")) for e in events]
    for _ in range(rng.randint(1, 8)):
        anchor = rng.choice(anchors)
        delta = rng.choice(
            [
                -3,
                -1200,
                0,
                250,
                1000,
                rng.randint(0, 86_400_000),
                86_400_000,
                86_400_999,
                86_401_000,
            ]
        )
        t = anchor + dt.timedelta(milliseconds=delta)
        user = rng.choice(users)
        domain, _, name = user.partition("\\")
        security.append(
            {
                "TimeGenerated": ms(t),
                "Computer": rng.choice(hosts),
                "EventID": 4674,
                "Activity": "4674 - An operation was attempted on a privileged object.",
                "Account": user if rng.random() < 0.95 else "",
                "SubjectUserSid": "S-1-5-21-1-2-3-1104",
                "SubjectUserName": name,
                "SubjectDomainName": domain,
                "ObjectServer": "SC Manager",
                "ObjectType": "SERVICE OBJECT",
                "ObjectName": rng.choice(services + ["ServicesActive"]),
                "AccessMask": rng.choice(MASKS),
            }
        )
    return {"Event": events, "SecurityEvent": security}


def api_json(columns, rows) -> dict:
    return {
        "tables": [
            {
                "name": "PrimaryResult",
                "columns": [{"name": c, "type": t} for c, t in columns],
                "rows": [[r[c] for c, _ in columns] for r in rows],
            }
        ]
    }


def norm_time(value) -> str:
    if isinstance(value, dt.datetime):
        t = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    else:
        t = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return t.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


def run_svchunt(binary: Path, workspace: dict, directory: Path) -> list:
    (directory / "event.json").write_text(json.dumps(api_json(EVENT_COLUMNS, workspace["Event"])))
    if workspace["SecurityEvent"]:
        (directory / "securityevent.json").write_text(
            json.dumps(api_json(SECURITY_COLUMNS, workspace["SecurityEvent"]))
        )
    out = subprocess.run(
        [str(binary), "hunt", "--semantics", "kql", "-f", "json", "-q", str(directory)],
        capture_output=True,
        text=True,
    )
    if out.returncode not in (0, 1):
        raise RuntimeError(f"svchunt failed ({out.returncode}): {out.stderr}")
    return [
        (
            norm_time(r["SourceTime"]),
            norm_time(r["TargetTime"]),
            r["Computer"],
            r["UserName"],
            r["InstalledService"],
            r["Exe"],
        )
        for r in json.loads(out.stdout)
    ]


def load_duckdb(workspace: dict):
    con = duckdb_kql.connect()
    con.sql(
        "CREATE TABLE Event (TimeGenerated TIMESTAMP, Computer VARCHAR, Source VARCHAR, EventLog VARCHAR, "
        "EventID INTEGER, UserName VARCHAR, EventData VARCHAR)"
    )
    con.sql(
        "CREATE TABLE SecurityEvent (TimeGenerated TIMESTAMP, Computer VARCHAR, EventID INTEGER, Activity VARCHAR, "
        "Account VARCHAR, SubjectUserSid VARCHAR, SubjectUserName VARCHAR, SubjectDomainName VARCHAR, "
        "ObjectServer VARCHAR, ObjectType VARCHAR, ObjectName VARCHAR, AccessMask VARCHAR)"
    )
    for table, columns in (("Event", EVENT_COLUMNS), ("SecurityEvent", SECURITY_COLUMNS)):
        for r in workspace[table]:
            values = [
                r[c].replace("Z", "") if t == "datetime" else r[c] for c, t in columns
            ]
            con.execute(
                f"INSERT INTO {table} VALUES ({', '.join('?' for _ in columns)})", values
            )
    return con


def seed_query(binary: Path) -> str:
    text = subprocess.run(
        [str(binary), "export", "--to", "kql-seed"], capture_output=True, text=True, check=True
    ).stdout
    return "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("//"))


def candidates_query(seed: str) -> str:
    """The seed up to its `between` filter: every joined row `arg_max` chooses among."""
    lines = seed.splitlines()
    cut = next(i for i, l in enumerate(lines) if "between" in l)
    return "\n".join(
        lines[: cut + 1]
        + ["| project SourceTime, TargetTime, Computer, UserName, InstalledService, Exe, ObjectName = InstalledService1"]
    )


def names_service(object_name: str, service: str) -> bool:
    escaped = object_name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.lower() == service.lower()


def compare(ours: list, theirs: list, candidates: list) -> str:
    """'exact', 'tie' (differs only where the documented tie rule chose), or a description."""
    if ours == theirs:
        return "exact"
    if sorted(r[4] for r in ours) != sorted(r[4] for r in theirs):
        return f"different services: {sorted(r[4] for r in ours)} vs {sorted(r[4] for r in theirs)}"
    if [r[0] for r in ours] != sorted((r[0] for r in ours), reverse=True):
        return "svchunt's rows are not sorted by SourceTime descending"
    theirs_by = {r[4]: r for r in theirs}
    for row in ours:
        other = theirs_by[row[4]]
        if row == other:
            continue
        if row[0] != other[0]:
            return f"{row[4]!r}: SourceTime {row[0]} vs {other[0]}"
        tied = [c for c in candidates if c[4] == row[4] and c[0] == row[0]]
        if not tied:
            return f"{row[4]!r}: no joined row at {row[0]}"
        best = min(
            (not names_service(c[6], c[4]), c[1], c[2], c[6]) for c in tied
        )
        allowed = {
            c[:6] for c in tied if (not names_service(c[6], c[4]), c[1], c[2], c[6]) == best
        }
        if row not in allowed:
            return f"{row[4]!r}: svchunt chose {row}, the tie rule allows {sorted(allowed)}"
    return "tie"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workspaces", type=int, default=300)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--svchunt", type=Path, default=REPO / "target" / "debug" / "svchunt")
    ap.add_argument("--keep", type=Path, default=Path("kql-crosscheck-failures"))
    args = ap.parse_args()

    seed = seed_query(args.svchunt)
    candidates = candidates_query(seed)
    rng = random.Random(args.seed)
    tally = {"exact": 0, "tie": 0, "differ": 0}
    rows = 0
    for n in range(args.workspaces):
        workspace = generate(rng)
        with tempfile.TemporaryDirectory() as d:
            ours = run_svchunt(args.svchunt, workspace, Path(d))
        con = load_duckdb(workspace)
        theirs = [
            (norm_time(r[0]), norm_time(r[2]), r[4], r[5], r[6], r[7])
            for r in duckdb_kql.kql(con, seed).fetchall()
        ]
        joined = [
            (norm_time(r[0]), norm_time(r[1]), r[2], r[3], r[4], r[5], r[6])
            for r in duckdb_kql.kql(con, candidates).fetchall()
        ]
        rows += len(theirs)
        verdict = compare(ours, theirs, joined)
        if verdict in ("exact", "tie"):
            tally[verdict] += 1
            continue
        tally["differ"] += 1
        args.keep.mkdir(parents=True, exist_ok=True)
        path = args.keep / f"workspace-{n:04d}.json"
        path.write_text(json.dumps({"workspace": workspace, "svchunt": ours, "duckdb_kql": theirs}, indent=1))
        print(f"workspace {n}: {verdict} (kept in {path})")
    print(
        f"{args.workspaces} workspaces ({rows} seed rows): {tally['exact']} identical, {tally['tie']} "
        f"identical but for the documented tie rule, {tally['differ']} different"
    )
    return 0 if tally["differ"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
