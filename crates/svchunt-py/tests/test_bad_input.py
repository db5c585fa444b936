"""Bad input through Python: located warnings and results, never an exception."""

from __future__ import annotations

import json
import shutil
import warnings

import pyarrow as pa
import pytest


def damaged_copy(lab, tmp_path):
    """The lab with one EVTX file's chunk damaged and a JSON-lines export with a bad line."""
    logs = tmp_path / "logs"
    shutil.copytree(lab, logs)
    evtx = sorted(logs.rglob("Security.evtx"))[0]
    data = bytearray(evtx.read_bytes())
    assert data[0x1000:0x1008] == b"ElfChnk\0"
    data[0x1000 + 0x300 : 0x1000 + 0x400] = b"\xff" * 0x100  # records of the first chunk
    evtx.write_bytes(bytes(data))
    lines = [
        {"EventID": 7045, "Hostname": "NX01.corp.example", "EventTime": "2024-05-06 08:00:00",
         "Channel": "System", "SourceName": "Service Control Manager",
         "ServiceName": "PSEXESVC", "ImagePath": "%SystemRoot%\\PSEXESVC.exe",
         "ServiceType": "user mode service", "StartType": "demand start", "AccountName": "LocalSystem"},
    ]
    export = logs / "nxlog.json"
    export.write_text(json.dumps(lines[0]) + "\n{not json\n")
    return logs, evtx, export


def test_damaged_inputs_warn_and_the_hunt_goes_on(sv, cli, lab, tmp_path):
    logs, evtx, export = damaged_copy(lab, tmp_path)
    with pytest.warns(sv.ReadWarning) as caught:
        result = sv.hunt(logs, local_tz="UTC")
    messages = [str(w.message) for w in caught]
    assert any(str(export) in m and "line 2" in m for m in messages), messages
    assert any(str(evtx) in m for m in messages), messages
    assert all(isinstance(w.message.location, str) for w in caught)
    assert len(result) > 0
    assert "NX01.corp.example" in result.findings.column("computer").to_pylist()
    # The same findings the command reports for the same damaged logs.
    out = cli("hunt", "-q", "-f", "jsonl", logs).stdout.decode()
    assert result.render("jsonl") == out
    assert result.stats["records_skipped"], "the summary counts what was skipped"


def test_bytes_that_are_not_a_log_are_a_warning(sv):
    # Files that are plainly not logs are counted by kind, as the command counts them.
    table = sv.read_events_from_bytes("notes.txt", b"\x00\x01 nothing here")
    assert table.num_rows == 0
    assert json.loads(table.schema.metadata[b"svchunt.stats"])["not_logs"] == {"documents": 1}
    with pytest.warns(sv.ReadWarning, match="empty"):
        sv.read_events_from_bytes("empty.evtx", b"")
    with pytest.warns(sv.ReadWarning, match="line 2"):
        table = sv.read_events_from_bytes(
            "x.jsonl",
            b'{"EventID": 7036, "Hostname": "H", "EventTime": "2024-05-06T08:00:00Z", "param1": "a", "param2": "running"}\n{oops\n',
            local_tz="UTC",
        )
    assert table.num_rows == 1


def test_rows_that_are_not_events_are_warnings(sv, lab):
    events = sv.read_events(lab, ids=[7045, 7036])
    n = events.num_rows
    time = events.column("time").to_pylist()
    time[3] = None
    broken = events.set_column(0, "time", pa.array(time, events.schema.field("time").type))
    with pytest.warns(sv.ReadWarning, match="row 3: no time"):
        result = sv.hunt(events=broken)
    assert result.stats["records"] == n - 1
    assert result.stats["records_skipped"] == {"events table row that is not an event": 1}
    with pytest.raises(ValueError, match="`computer`"):
        sv.hunt(events=events.drop_columns(["computer"]))
