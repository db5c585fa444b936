"""Read an EVTX file with python-evtx (an independent parser) and compare every record with
what the Rust test says it wrote.

Usage: check_python_evtx.py FILE.evtx EXPECTED.json
EXPECTED.json: a list of {"record_id", "event_id", "filetime", "computer", "channel",
"provider", "user_sid", "data": [[name, kind, value], ...]} with kind one of "str", "int",
"guid", "sid", "bool", "bin", "filetime". Prints a summary; exits 1 on any mismatch.
"""
import base64
import datetime
import json
import sys
import xml.etree.ElementTree as ET

from Evtx.Evtx import Evtx

NS = "{http://schemas.microsoft.com/win/2004/08/events/event}"
EPOCH = datetime.datetime(1601, 1, 1, tzinfo=datetime.timezone.utc)


def ticks(text):
    """python-evtx renders times as 'YYYY-MM-DD HH:MM:SS.ffffff+00:00' (or without fraction)."""
    t = datetime.datetime.fromisoformat(text)
    if t.tzinfo is None:
        t = t.replace(tzinfo=datetime.timezone.utc)
    d = t - EPOCH
    return (d.days * 86400 + d.seconds) * 10_000_000 + d.microseconds * 10


def as_int(text):
    text = text.strip()
    return int(text, 16) if text.lower().startswith("0x") else int(text)


def same(kind, want, got):
    got = got or ""
    if kind == "str":
        # An XML parser turns \r\n into \n.
        return want.replace("\r\n", "\n") == got
    if kind == "int":
        return as_int(got) == want
    if kind == "guid" or kind == "sid":
        return want.lower() == got.lower()
    if kind == "bool":
        return got.lower() in (("true", "1") if want else ("false", "0"))
    if kind == "bin":
        # python-evtx renders binary values as base64.
        return bytes.fromhex(want) == base64.b64decode(got)
    if kind == "filetime":
        # python-evtx goes through a float: allow a few microseconds.
        return abs(ticks(got) - want) < 50
    raise ValueError(kind)


def main():
    path, expected_path = sys.argv[1], sys.argv[2]
    expected = json.load(open(expected_path))
    errors = []
    n = 0
    with Evtx(path) as log:
        header = log.get_file_header()
        if not header.verify():
            errors.append("file header does not verify")
        for chunk in header.chunks():
            if not chunk.verify():
                errors.append(f"chunk at {chunk.offset():#x} does not verify (CRC32)")
        for record, want in zip(log.records(), expected):
            n += 1
            where = f"record {want['record_id']}"
            root = ET.fromstring(record.xml())
            system = root.find(NS + "System")
            if record.record_num() != want["record_id"]:
                errors.append(f"{where}: header id {record.record_num()}")
            if as_int(system.find(NS + "EventRecordID").text) != want["record_id"]:
                errors.append(f"{where}: EventRecordID {system.find(NS + 'EventRecordID').text}")
            if as_int(system.find(NS + "EventID").text) != want["event_id"]:
                errors.append(f"{where}: EventID {system.find(NS + 'EventID').text}")
            created = system.find(NS + "TimeCreated").get("SystemTime")
            if not same("filetime", want["filetime"], created):
                errors.append(f"{where}: TimeCreated {created}")
            for tag in ("Computer", "Channel"):
                got = system.find(NS + tag).text
                if got != want[tag.lower()]:
                    errors.append(f"{where}: {tag} {got!r}")
            if system.find(NS + "Provider").get("Name") != want["provider"]:
                errors.append(f"{where}: Provider {system.find(NS + 'Provider').get('Name')!r}")
            uid = system.find(NS + "Security").get("UserID") or None
            if uid != want["user_sid"]:
                errors.append(f"{where}: UserID {uid!r}")
            data = root.find(NS + "EventData")
            got_fields = [(d.get("Name"), d.text) for d in data.findall(NS + "Data")]
            if [g[0] for g in got_fields] != [w[0] for w in want["data"]]:
                errors.append(f"{where}: Data names {[g[0] for g in got_fields]}")
                continue
            for (name, got), (_, kind, value) in zip(got_fields, want["data"]):
                if not same(kind, value, got):
                    errors.append(f"{where}: {name} = {got!r}, wrote {value!r} ({kind})")
    if n != len(expected):
        errors.append(f"read {n} records, wrote {len(expected)}")
    for e in errors[:50]:
        print("MISMATCH", e)
    print(f"python-evtx: {n} records, {len(errors)} mismatches")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
