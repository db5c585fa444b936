"""svchunt's hunt on Apache Spark: the same engine, run per host on the executors.

    spark-submit examples/spark/hunt.py --out results/ logs/            # local or a cluster
    spark-submit examples/spark/hunt.py --out s3a://bucket/hunt/ s3a://bucket/triage/

What runs where:

1. The driver lists the inputs with Spark's ``binaryFile`` source (a local folder, HDFS,
   object storage: any path Spark reads), recursively.
2. Executors read each file from its bytes with ``mapInArrow`` and
   ``svchunt.read_events_from_bytes`` (EVTX, JSON, CSV, zip and gzip, recognised by content,
   as the command does), keeping only the event ids of the semantics' read plan, each event
   whole (the engine matches what it looks for against every field, then drops the fields it
   does not read). A damaged file or record is a located warning, never a failed task.
3. Events are grouped by host (the engine's host key: first label of the computer name,
   lower-cased) and each host is hunted by the engine (``groupBy().applyInArrow``,
   ``svchunt.hunt(events=...)``). A lifecycle finding, its evidence and logon, its campaign
   and its movement edge all belong to one host (the engine correlates per host, a campaign
   is a burst on one host, an edge ends at one host). One thing crosses hosts: what the
   engine looks for. It keeps a host's share accesses, pipes and registry writes that name
   *any* install of the hunt (a 5145 write of ``cmd.exe`` on host A is kept because host B
   installed a service running it, and then counts as evidence on A). So a first, lean pass
   reads every host's installs (``first_pass=`` of ``svchunt.read_events_from_bytes``), the driver broadcasts them, and each
   host is hunted with the other hosts' installs beside its own events, keeping only its own
   answer: the same findings as hunting everything at once. The seed query
   (``--semantics kql``) ranks rows across hosts, so it is run as one group.
4. The driver merges the hosts' answers in the command's order and writes, under ``--out``:
   ``findings.parquet`` (the schema of ``svchunt hunt -f parquet``), ``findings.jsonl``
   (byte for byte what ``svchunt hunt -f jsonl`` writes for the same inputs),
   ``campaigns.jsonl``, ``coverage.jsonl``, ``graph.json`` (``-f graph``) and
   ``summary.json`` (counts, warnings, and how the work split across tasks).

Spark's file listing skips names that start with ``.`` or ``_`` (the command reads them).
Results are written by the driver; give ``--out`` as a local folder (on a
cluster, a folder on the driver's machine or a mounted share) — the findings are a tiny
fraction of the logs.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
import unicodedata
from typing import Dict, Iterator, List, Optional, Tuple

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

import svchunt

# The events as Spark carries them: `time` as int64 nanoseconds, because Spark's timestamps
# stop at microseconds and EVTX times have 100 ns steps (a finding's times must come back
# whole). `host` is the grouping key; `note` carries a warning or a file's counts instead of
# an event (then every other column is null), so one pass over the files gives both.
EVENT_ROWS = (
    "host string, time long, time_as_logged string, computer string, channel string, provider string, "
    "event_id long, record_id long, user struct<sid: string, name: string>, "
    "data array<struct<name: string, value: string>>, "
    "origin struct<file: string, locator: struct<kind: string, at: long>>, identity long, "
    "table struct<table: string, columns: array<struct<name: string, value: string>>>, note string"
)

# One row per (host, kind): the host's table of that kind as Arrow IPC bytes (findings,
# campaigns, coverage, edges) with each item's JSON line as the command writes it; notes
# (warnings, counts) have no host.
PARTS = "host string, kind string, arrow binary, lines array<string>, events long, note string"


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="hunt.py",
        description="Hunt service executions (PsExec and kin) in Windows event logs with Spark: "
        "the svchunt engine on the executors, per host.",
    )
    p.add_argument("inputs", nargs="+", help="files or folders (local, hdfs://, s3a://, abfss://, ...)")
    p.add_argument("--out", required=True, help="local folder for the results (created)")
    p.add_argument("--semantics", choices=["lifecycle", "kql"], default="lifecycle")
    p.add_argument("--window", help="how long after a creation its removal may come (24h)")
    p.add_argument("--tolerance", help="how long before a creation its evidence may be logged (2s)")
    p.add_argument("--all", action="store_true", help="keep benign findings too (--all)")
    p.add_argument("--allow", help="allow-list file (read on the driver, shipped to executors)")
    p.add_argument("--local-tz", default=None, help="zone of timestamps that carry none (UTC)")
    p.add_argument("--master", default=None, help="Spark master when not run by spark-submit (local[2])")
    p.add_argument("--read-partitions", type=int, default=None,
                   help="partitions of the file list (default: Spark's, about 128 MB each)")
    p.add_argument("-q", "--quiet", action="store_true", help="no warnings on stderr")
    return p.parse_args(argv)


def hunt_options(args: argparse.Namespace, allow_path: Optional[str]) -> Dict[str, object]:
    return {
        "semantics": args.semantics,
        "window": args.window,
        "tolerance": args.tolerance,
        "include_benign": args.all,
        "allow": allow_path,
        "local_tz": args.local_tz,
        # One engine thread per task: Spark runs as many tasks as the executors have cores.
        "threads": 1,
    }


def display_names(spark, inputs: List[str]) -> List[Tuple[str, str]]:
    """(qualified prefix, as given) per input, longest first: a file is named in warnings and
    evidence as the command would name it (`logs/WKS01/System.evtx`), not by its URI."""
    jvm = spark._jvm
    conf = spark._jsc.hadoopConfiguration()
    pairs = []
    for given in inputs:
        path = jvm.org.apache.hadoop.fs.Path(given)
        qualified = path.getFileSystem(conf).makeQualified(path).toString()
        pairs.append((qualified.rstrip("/"), given.rstrip("/") or given))
    return sorted(pairs, key=lambda p: -len(p[0]))


def arrow_schema(ddl: str) -> pa.Schema:
    """A Spark DDL schema as the Arrow schema its batches carry (on the driver: parsing DDL
    needs the session)."""
    from pyspark.sql.pandas.types import to_arrow_schema
    from pyspark.sql.types import _parse_datatype_string

    return to_arrow_schema(_parse_datatype_string(ddl))


def host_keys(computers: pa.Array) -> pa.Array:
    """The engine's host key (svchunt.host_key) of each computer name, with Arrow kernels."""
    return pc.ascii_lower(pc.list_element(pc.split_pattern(computers, ".", max_splits=1), 0))


def make_reader(
    names: List[Tuple[str, str]],
    select: str,
    local_tz: Optional[str],
    schema: pa.Schema,
    anchors: Optional[str] = None,
):
    """The read stage: each file's events (with a note per warning and one with the file's
    counts), or, given `anchors` (the semantics), only what a hunt of it reads first and no
    notes (the first pass)."""
    import warnings

    def name_of(uri: str) -> str:
        for qualified, given in names:
            if uri == qualified:
                return given
            if uri.startswith(qualified + "/"):
                return given + uri[len(qualified):]
        return uri

    def note_rows(notes: List[str]) -> pa.RecordBatch:
        arrays = [pa.nulls(len(notes), f.type) for f in schema]
        arrays[-1] = pa.array(notes, pa.string())
        return pa.RecordBatch.from_arrays(arrays, schema=schema)

    def read(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        for batch in batches:
            paths = batch.column("path").to_pylist()
            contents = batch.column("content")
            for i, uri in enumerate(paths):
                name = name_of(uri)
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", svchunt.ReadWarning)
                    if anchors is None:
                        events = svchunt.read_events_from_bytes(
                            name, contents[i].as_buffer(), select=select, local_tz=local_tz
                        )
                    else:
                        events = svchunt.read_events_from_bytes(
                            name, contents[i].as_buffer(), first_pass=anchors, local_tz=local_tz
                        )
                if anchors is not None:
                    if events.num_rows:
                        yield from read_rows(events, None)
                    continue
                notes = [
                    json.dumps({"warning": [w.message.file, w.message.location, w.message.message]})
                    for w in caught
                    if isinstance(w.message, svchunt.ReadWarning)
                ]
                stats = json.loads(events.schema.metadata[b"svchunt.stats"])
                task = TaskContext.get()
                notes.append(json.dumps({
                    "stats": stats, "file": name, "events": events.num_rows,
                    "task": task.partitionId() if task else None,
                }))
                yield note_rows(notes)
                if events.num_rows:
                    yield from read_rows(events, "" if select == "kql" else None)

    def read_rows(events: pa.Table, host: Optional[str]) -> Iterator[pa.RecordBatch]:
        if host is not None:
            # The seed query ranks rows across hosts: one group for all.
            keys = pa.array([host] * events.num_rows, pa.string())
        else:
            keys = host_keys(events.column("computer"))
        columns = [keys, events.column("time").cast(pa.int64())]
        columns += [events.column(f.name) for f in schema if f.name not in ("host", "time", "note")]
        columns.append(pa.nulls(events.num_rows, pa.string()))
        table = pa.Table.from_arrays(columns, schema=schema)
        yield from table.to_batches(max_chunksize=65536)

    return read


def make_hunter(options: Dict[str, object], allow_text: Optional[str], schema: pa.Schema, anchors):
    """The hunt stage. `anchors` (a broadcast of every host's installs as Arrow IPC, or None
    for the seed query's single group) are added to each host's events, so that the engine
    looks on this host for the evidence of every install of the hunt, as the command does;
    only this host's answer is kept."""
    import tempfile
    import warnings

    def ipc_bytes(table: pa.Table) -> bytes:
        sink = io.BytesIO()
        with ipc.new_stream(sink, table.schema) as w:
            w.write_table(table)
        return sink.getvalue()

    def hunt(key: Tuple[pa.Scalar, ...], table: pa.Table) -> pa.Table:
        host = key[0].as_py()
        rows: Dict[str, list] = {f.name: [] for f in schema}

        def part(kind, arrow=None, lines=None, events=None, note=None, host=host):
            for name, value in zip(schema.names, (host, kind, arrow, lines, events, note)):
                rows[name].append(value)

        if host is None:  # notes from reading: passed on to the driver
            for note in table.column("note").to_pylist():
                part("note", note=note)
            return pa.table(rows, schema=schema)

        events = table.drop_columns(["host", "note"])
        if anchors is not None:
            others = ipc.open_stream(anchors.value).read_all()
            others = others.filter(pc.not_equal(others.column("host"), host))
            events = pa.concat_tables([events, others.drop_columns(["host", "note"]).cast(events.schema)])
        events = events.set_column(
            events.schema.get_field_index("time"),
            "time",
            events.column("time").cast(pa.timestamp("ns", tz="UTC")),
        )
        opts = dict(options)
        with tempfile.TemporaryDirectory() as tmp:
            if allow_text is not None:
                opts["allow"] = os.path.join(tmp, "allow.txt")
                with open(opts["allow"], "w", encoding="utf-8") as f:
                    f.write(allow_text)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", svchunt.ReadWarning)
                result = svchunt.hunt(events=events, **opts)
                tables = {k: getattr(result, k) for k in ("findings", "campaigns", "coverage", "edges")}
        for w in caught:
            if isinstance(w.message, svchunt.ReadWarning):
                part("note", note=json.dumps({"warning": [w.message.file, w.message.location, w.message.message]}))
        part("note", note=json.dumps({"hunted": result.stats, "host": host}), events=table.num_rows)
        for kind, t in tables.items():
            lines = result.json_lines(kind)
            if anchors is not None and t.num_rows:
                # Other hosts' installs were only there to be looked for: keep this host's.
                mine = pc.equal(host_keys(t.column("target" if kind == "edges" else "computer")), host)
                t = t.filter(mine)
                lines = [line for line, keep in zip(lines, mine.to_pylist()) if keep]
            if t.num_rows:
                part(kind, arrow=ipc_bytes(t), lines=lines)
        return pa.table(rows, schema=schema)

    return hunt


def no_events() -> pa.Table:
    return pa.Table.from_batches([], schema=svchunt.events_schema())


def terminal(text: str) -> str:
    """Log text shown on a terminal: control and invisible characters as escapes, as the
    command shows them (a file name inside an archive is the attacker's choice)."""
    out = []
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x80 else f"\\u{{{ord(ch):x}}}")
        else:
            out.append(ch)
    return "".join(out)


def merge(rows, kind: str, order) -> Tuple[Optional[pa.Table], List[str]]:
    """The hosts' tables of one kind, in the command's order: hosts in key order, then a
    stable sort on the command's keys (ties keep each host's own order)."""
    parts = sorted((r for r in rows if r["kind"] == kind), key=lambda r: r["host"].encode())
    tables, lines = [], []
    for r in parts:
        tables.append(ipc.open_stream(r["arrow"]).read_all())
        lines.extend(r["lines"])
    if not tables:
        return None, []
    table = pa.concat_tables(tables)
    if order:
        idx = pc.sort_indices(table, sort_keys=[(k, "ascending") for k in order]).to_pylist()
        table = table.take(idx)
        lines = [lines[i] for i in idx]
    return table, lines


def sort_keys(semantics: str) -> Dict[str, List[str]]:
    if semantics == "kql":
        return {"findings": []}  # one group: the engine's own order
    return {
        "findings": ["created", "computer", "service_name"],
        "campaigns": ["first", "computer"],
        "coverage": [],  # hosts in key order, as the engine lists them per host
        "edges": ["source", "target"],
    }


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("svchunt")
    if args.master:
        builder = builder.master(args.master)
    spark = builder.getOrCreate()
    started = time.time()

    allow_text = None
    if args.allow:
        with open(args.allow, encoding="utf-8") as f:
            allow_text = f.read()
    # Bad options (and a bad allow-list) fail here, on the driver, before any work is shipped.
    svchunt.hunt(events=no_events(), **hunt_options(args, args.allow))
    options = hunt_options(args, None)

    files = (
        spark.read.format("binaryFile")
        .option("recursiveFileLookup", "true")
        .load(args.inputs)
        .select("path", "content")
    )
    if args.read_partitions:
        files = files.repartition(args.read_partitions)
    names = display_names(spark, args.inputs)
    anchors = None
    if args.semantics == "lifecycle":
        # First pass, as the command's: every host's installs and service ImagePath writes
        # (a lean read of a few ids, only the fields the needles read), shipped to every
        # host's hunt.
        first = files.mapInArrow(
            make_reader(names, args.semantics, args.local_tz, arrow_schema(EVENT_ROWS),
                        anchors=args.semantics),
            EVENT_ROWS,
        )
        table = first.toArrow()
        sink = io.BytesIO()
        with ipc.new_stream(sink, table.schema) as w:
            w.write_table(table)
        anchors = spark.sparkContext.broadcast(sink.getvalue())
    reader = make_reader(names, args.semantics, args.local_tz, arrow_schema(EVENT_ROWS))
    events = files.mapInArrow(reader, EVENT_ROWS)
    parts = events.groupBy("host").applyInArrow(
        make_hunter(options, allow_text, arrow_schema(PARTS), anchors), PARTS
    )
    rows = [r.asDict() for r in parts.collect()]

    os.makedirs(args.out, exist_ok=True)
    keys = sort_keys(args.semantics)
    findings, finding_lines = merge(rows, "findings", keys["findings"])
    if findings is None:
        findings = svchunt.hunt(events=no_events(), semantics=args.semantics).findings
    pq.write_table(findings, os.path.join(args.out, "findings.parquet"), compression="snappy")
    with open(os.path.join(args.out, "findings.jsonl"), "w", encoding="utf-8") as f:
        f.writelines(line + "\n" for line in finding_lines)
    for kind, file in (("campaigns", "campaigns.jsonl"), ("coverage", "coverage.jsonl")):
        _, lines = merge(rows, kind, keys.get(kind, []))
        with open(os.path.join(args.out, file), "w", encoding="utf-8") as f:
            f.writelines(line + "\n" for line in lines)
    _, edge_lines = merge(rows, "edges", keys.get("edges", []))
    with open(os.path.join(args.out, "graph.json"), "w", encoding="utf-8") as f:
        json.dump({"edges": [json.loads(line) for line in edge_lines]}, f, indent=2, ensure_ascii=True)
        f.write("\n")

    # Counts: what each file gave (read on the executors), and what each host's hunt kept.
    notes = [json.loads(r["note"]) for r in rows if r["kind"] == "note"]
    warnings_seen = [n["warning"] for n in notes if "warning" in n]
    read = [n for n in notes if "stats" in n]
    hunted = [n for n in notes if "hunted" in n]
    total: Dict[str, object] = {"files": 0, "files_skipped": 0, "bytes": 0, "records": 0,
                                "records_selected": 0, "duplicates": 0, "records_skipped": {}}
    for n in read:
        s = n["stats"]
        for k in ("files", "files_skipped", "bytes", "records", "records_selected", "duplicates"):
            total[k] += s[k]
        for why, c in s["records_skipped"].items():
            total["records_skipped"][why] = total["records_skipped"].get(why, 0) + c
    per_task: Dict[int, int] = {}
    for n in read:
        per_task[n["task"]] = per_task.get(n["task"], 0) + n["events"]
    events_per_host = sorted((r["events"] for r in rows if r["kind"] == "note" and r["events"] is not None), reverse=True)
    summary = {
        "read": total,
        "read_tasks": {"tasks": len(per_task), "events_per_task": [per_task[k] for k in sorted(per_task)]},
        "hunted": {
            "hosts": len(hunted),
            "events": sum(events_per_host),
            "events_kept": sum(n["hunted"]["records_selected"] for n in hunted),
            "duplicates": sum(n["hunted"]["duplicates"] for n in hunted),
            "largest_host_events": events_per_host[:5],
        },
        "findings": findings.num_rows,
        "warnings": warnings_seen,
        "seconds": round(time.time() - started, 3),
        "spark": {"master": spark.sparkContext.master, "default_parallelism": spark.sparkContext.defaultParallelism},
    }
    with open(os.path.join(args.out, "summary.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    if not args.quiet:
        for file, location, message in warnings_seen:
            where = f"{file}: {location}" if location else file
            print(terminal(f"svchunt: warning: {where}: {message}"), file=sys.stderr)
        print(
            f"svchunt: read {total['files']} input(s) ({total['files_skipped']} skipped), "
            f"{total['bytes'] / 1e6:.1f} MB, {total['records']} records; {len(hunted)} host(s) hunted, "
            f"{findings.num_rows} finding(s) in {args.out}",
            file=sys.stderr,
        )
    spark.stop()
    return 0 if findings.num_rows else 1


if __name__ == "__main__":
    sys.exit(main())
