"""svchunt.hunt and read_events give what the command gives, exactly."""

from __future__ import annotations

import datetime as dt
import json
import pathlib
import warnings

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from helpers import finding_from_json, jsonl, rows


def assert_same_findings(result, cli_jsonl: bytes) -> None:
    """The package's findings, as text and as an Arrow table, are the command's."""
    assert result.render("jsonl").encode() == cli_jsonl, "render('jsonl') is -f jsonl"
    expected = [finding_from_json(f) for f in jsonl(cli_jsonl)]
    got = rows(result.findings)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g == e, f"{e['computer']} {e['service_name']}"


def test_lab_hunt_is_the_commands(sv, cli, lab):
    result = sv.hunt(lab)
    out = cli("hunt", "-q", "-f", "jsonl", lab).stdout
    assert len(result) >= 10
    assert_same_findings(result, out)
    assert result.render("json") == cli("hunt", "-q", "-f", "json", lab).stdout.decode()


def test_twenty_hosts_hunt_is_the_commands(sv, cli, acceptance):
    out = cli("hunt", "-q", "-f", "jsonl", acceptance).stdout
    result = sv.hunt(acceptance)
    assert len({f["computer"] for f in jsonl(out)}) >= 10, "a multi-host scenario"
    assert_same_findings(result, out)
    # The same engine on the events table: paths -> Arrow -> Event -> the same findings.
    events = sv.read_events(acceptance)
    assert_same_findings(sv.hunt(events=events), out)
    # Each file's bytes read alone, as a Spark executor reads them, then hunted together.
    tables = []
    for p in sorted(pathlib.Path(acceptance).rglob("*")):
        if p.is_file():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", sv.ReadWarning)
                tables.append(sv.read_events_from_bytes(str(p), p.read_bytes(), select="lifecycle"))
    assert_same_findings(sv.hunt(events=pa.concat_tables(tables)), out)


def test_options_are_the_commands(sv, cli, lab):
    out = cli("hunt", "-q", "-f", "jsonl", "--all", "--window", "1h", "--tolerance", "500ms", lab).stdout
    result = sv.hunt(lab, include_benign=True, window="1h", tolerance=dt.timedelta(milliseconds=500))
    assert_same_findings(result, out)
    seed = sv.hunt(lab, semantics="kql", threads=1)
    assert seed.render("jsonl") == cli("hunt", "-q", "-f", "jsonl", "--semantics", "kql", lab).stdout.decode()
    assert seed.findings.column_names[:2] == ["SourceTime", "SourceEventID"]


def test_allow_list_is_the_commands(sv, cli, lab, tmp_path):
    allow = tmp_path / "site.allow"
    allow.write_text("tool=psexec\n")
    out = cli("hunt", "-q", "-f", "jsonl", "--all", "--allow", allow, lab).stdout
    result = sv.hunt(lab, include_benign=True, allow=allow)
    assert_same_findings(result, out)
    assert "allow-listed by" in result.render("jsonl")


@pytest.mark.parametrize(
    "options, words",
    [
        ({"semantics": "kql", "window": "1h"}, "does not apply"),
        ({"semantics": "sql"}, "semantics must be"),
        ({"window": "-1h"}, "must not be negative"),
        ({"window": "soon"}, "not a duration"),
        ({"tolerance": "1000000h"}, "longer than any log"),
        ({"local_tz": "Mars/Olympus"}, "local_tz"),
        ({"threads": 0}, "thread"),
    ],
)
def test_bad_options_raise_value_error(sv, lab, options, words):
    with pytest.raises(ValueError, match=words):
        sv.hunt(lab, **options)


def test_tables_have_the_documented_columns(sv, lab):
    result = sv.hunt(lab)
    assert result.findings.column_names == list(sv.FINDINGS_COLUMNS)
    assert result.findings.schema == sv.findings_schema()
    frame = result.to_pandas()
    assert list(frame.columns) == list(sv.FINDINGS_COLUMNS)
    assert str(frame["created"].dtype) == "datetime64[ns, UTC]"
    events = sv.read_events(lab, ids=[7045])
    assert events.column_names == list(sv.EVENTS_COLUMNS)
    assert set(pc.unique(events.column("event_id")).to_pylist()) == {7045}
    stats = json.loads(events.schema.metadata[b"svchunt.stats"])
    assert stats["records"] > stats["records_selected"] > 0
    assert result.coverage.num_rows == 4
    assert result.edges.num_rows >= 1
    assert {"id", "computer", "size", "first", "last", "tool", "user", "payload"} == set(result.campaigns.column_names)


def test_cli_parquet_is_the_packages_table(sv, cli, lab, tmp_path):
    findings = tmp_path / "findings.parquet"
    cli("hunt", "-q", "-f", "parquet", "-o", findings, lab)
    table = pq.read_table(findings)
    expected = sv.hunt(lab).findings
    assert table.schema.remove_metadata() == expected.schema
    assert table.equals(expected)
    events = tmp_path / "events.parquet"
    cli("events", "-q", "-f", "parquet", "-o", events, lab)
    got = pq.read_table(events)
    want = sv.read_events(lab)
    assert got.schema.remove_metadata() == want.schema.remove_metadata()
    assert got.equals(want.replace_schema_metadata(None))


def test_host_key_of_the_spark_job_is_the_engines(sv):
    names = ["WKS01.corp.local", "wks01", "ÄBC.Corp", "SRV-001.CORP.example", "", ".x", "a.b.c", "İSTANBUL.tr"]
    spark_way = pc.ascii_lower(pc.list_element(pc.split_pattern(pa.array(names), ".", max_splits=1), 0))
    assert spark_way.to_pylist() == [sv.host_key(n) for n in names]


def test_hosts_hunted_apart_with_the_others_first_pass_are_the_whole_hunt(sv, cli, acceptance):
    """What the Spark job does, without Spark: each host hunted alone, with every other host's
    first-pass events (installs, service ImagePath writes, start-type changes' names), keeping
    its own findings, gives the whole hunt's findings."""
    out = cli("hunt", "-q", "-f", "jsonl", "--all", acceptance).stdout
    files = [p for p in sorted(pathlib.Path(acceptance).rglob("*")) if p.is_file()]

    def read(p, **kw):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sv.ReadWarning)
            return sv.read_events_from_bytes(str(p), p.read_bytes(), **kw)

    events = pa.concat_tables([read(p, select="lifecycle") for p in files])
    first = pa.concat_tables([read(p, first_pass="lifecycle") for p in files])
    assert set(first.column("event_id").to_pylist()) <= set(sv.anchor_ids("lifecycle"))
    assert first.num_rows < events.num_rows / 4, "the first pass is lean"
    keys = [sv.host_key(c) for c in events.column("computer").to_pylist()]
    first_keys = [sv.host_key(c) for c in first.column("computer").to_pylist()]
    found = []
    for host in sorted(set(keys)):
        mine = events.filter(pa.array([k == host for k in keys]))
        others = first.filter(pa.array([k != host for k in first_keys]))
        result = sv.hunt(events=pa.concat_tables([mine, others]), include_benign=True)
        found += [f for f in jsonl(result.render("jsonl").encode()) if sv.host_key(f["computer"]) == host]
    expected = jsonl(out)
    key = lambda f: (f["computer"], f["created"], f["service_name"])
    assert sorted(found, key=key) == sorted(expected, key=key)
