"""svchunt: find remote service execution (PsExec and kin) in Windows event logs.

The same engine as the ``svchunt`` command, with events and findings as Arrow tables
(pyarrow), so a notebook gets a DataFrame and a Spark job can run the engine per host.

>>> import svchunt
>>> result = svchunt.hunt(["examples/lab"])           # doctest: +SKIP
>>> result.findings.to_pandas()[["computer", "service_name", "tool", "verdict"]]  # doctest: +SKIP
>>> events = svchunt.read_events(["examples/lab"], ids=[7045, 4697])  # doctest: +SKIP
>>> svchunt.hunt(events=events)                      # the same engine on a table  # doctest: +SKIP

Bad input is never an exception: each located problem (a damaged EVTX chunk, a JSON line
that is not JSON, a table row that is not an event) is a :class:`ReadWarning` raised with
:func:`warnings.warn`, and the rest is read. Only bad options raise (``ValueError``).

The tables' columns mirror the command's JSON (``svchunt hunt -f json``); see
:data:`EVENTS_COLUMNS`, :data:`FINDINGS_COLUMNS` and the README's "At scale" section.
"""

from __future__ import annotations

import datetime as _dt
import json as _json
import os as _os
import warnings as _warnings
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

import pyarrow as _pa

from . import _svchunt

__version__ = _svchunt.__version__

__all__ = [
    "ReadWarning",
    "HuntResult",
    "read_events",
    "read_events_from_bytes",
    "hunt",
    "host_key",
    "anchor_ids",
    "events_schema",
    "findings_schema",
    "EVENTS_COLUMNS",
    "FINDINGS_COLUMNS",
]

PathLike = Union[str, "_os.PathLike[str]"]
Duration = Union[str, _dt.timedelta]

#: The events table's columns (``read_events``, ``read_events_from_bytes``; what
#: ``hunt(events=...)`` takes), as ``svchunt events`` writes them in JSON.
EVENTS_COLUMNS: Dict[str, str] = {
    "time": "timestamp[ns, UTC]: when it was logged (null only outside 1677-2262, with a warning)",
    "time_as_logged": "string, nullable: the logged text of a time beyond the year 9999 (then `time` is null)",
    "computer": "string: the computer, as the log spells it",
    "channel": "string: System, Security, Microsoft-Windows-Sysmon/Operational, ...",
    "provider": "string: Service Control Manager, Microsoft-Windows-Security-Auditing, ...",
    "event_id": "int64",
    "record_id": "int64, nullable: the EventRecordID, where the source has one",
    "user": "struct{sid, name: string}: the acting account",
    "data": "list<struct{name, value: string}>: event-data fields, in source order",
    "origin": "struct{file: string, locator: struct{kind: record|line|row, at: int64}}: where it was read",
    "identity": "int64: the bits of the record's identity hash (copies of one record share it)",
    "table": "struct{table: string, columns: list<struct{name, value}>}, nullable: a Sentinel row's raw columns",
}

#: The findings table's columns (``HuntResult.findings``), as ``svchunt hunt -f json`` writes
#: each finding.
FINDINGS_COLUMNS: Dict[str, str] = {
    "kind": "string: creation (7045/4697) or reconfiguration (an existing service's binary path changed and set back)",
    "computer": "string: the host the service was installed on",
    "service_name": "string: the service's key name",
    "display_name": "string, nullable",
    "image_path": "string: the command line the service runs",
    "service_type": "string, nullable",
    "start_type": "string, nullable",
    "service_account": "string, nullable",
    "created": "timestamp[ns, UTC]: the earlier of its 7045 and 4697",
    "deleted": "timestamp[ns, UTC], nullable: when removed or stopped, by the best evidence",
    "deletion_evidence": "string, nullable: which evidence dates `deleted`",
    "lifetime_ms": "int64, nullable",
    "verdict": "string: remote-execution, local-execution, privilege-escalation, suspicious, benign",
    "verdict_reasons": "list<string>",
    "tool": "string: psexec, impacket-smbexec, ..., unknown",
    "tool_reasons": "list<string>",
    "tool_confidence": "string, nullable: high, medium, low",
    "command": "string, nullable: what it ran, decoded",
    "campaign": "string, nullable: <host>#<n> of its burst",
    "user": "struct{sid, name: string}: the installing account",
    "source": "struct{logon_id, logon_type: int64, ip, workstation, auth, logon_time: timestamp, "
    "client_host, pipes: list<string>, files_written: list<string>}, nullable",
    "evidence": "list<struct{event_id: int64, time: timestamp, file, record_id: int64, "
    "locator: struct{kind, at}, role, detail}>",
    "reconfiguration": "struct{original_image_path, temporary_image_paths: list<string>, restored: timestamp, "
    "start_type_changes: list<string>}, nullable: for a reconfiguration",
}


class ReadWarning(UserWarning):
    """A located problem met while reading: the input, where in it, and what."""

    def __init__(self, file: str, location: str, message: str) -> None:
        self.file = file
        self.location = location
        self.message = message
        where = f"{file}: {location}" if location else file
        super().__init__(f"{where}: {message}")


def _warn(problems: Iterable[Sequence[str]], stacklevel: int = 3) -> None:
    for file, location, message in problems:
        _warnings.warn(ReadWarning(file, location, message), stacklevel=stacklevel)


def _with_stats(table: _pa.Table, stats: str) -> _pa.Table:
    return table.replace_schema_metadata({"svchunt.stats": stats})


def _paths(paths: Union[PathLike, Iterable[PathLike]]) -> List[str]:
    if isinstance(paths, (str, bytes, _os.PathLike)):
        paths = [paths]
    return [_os.fspath(p) for p in paths]


def _duration(name: str, value: Optional[Duration]) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, _dt.timedelta):
        # Whole microseconds, exactly: a float of seconds would round.
        return f"{value // _dt.timedelta(microseconds=1)}us"
    if isinstance(value, str):
        return value
    raise TypeError(f"{name} must be a duration string like '24h' or a datetime.timedelta")


def read_events(
    paths: Union[PathLike, Iterable[PathLike]],
    ids: Optional[Iterable[int]] = None,
    *,
    local_tz: Optional[str] = None,
    threads: Optional[int] = None,
) -> _pa.Table:
    """The normalised events under ``paths`` (files and folders, recursively; formats found
    by content: EVTX, evtx_dump/NXLog/Sentinel/Winlogbeat JSON, Sentinel CSV, inside zip and
    gzip too), only those of ``ids`` when given, in time order, each record once.

    Returns a ``pyarrow.Table`` with the columns of :data:`EVENTS_COLUMNS`; the read counts
    are in its schema metadata (``svchunt.stats``, JSON). Each unreadable part of an input is
    a :class:`ReadWarning`.
    """
    table, problems, stats = _svchunt.read_events(
        _paths(paths),
        None if ids is None else [int(i) for i in ids],
        local_tz,
        threads,
    )
    _warn(problems)
    return _with_stats(table, stats)


def read_events_from_bytes(
    name: str,
    data: Union[bytes, bytearray, memoryview],
    ids: Optional[Iterable[int]] = None,
    *,
    select: Optional[str] = None,
    local_tz: Optional[str] = None,
    first_pass: Optional[str] = None,
) -> _pa.Table:
    """The events of one input held in memory (an EVTX file's bytes, a JSON export, a zip),
    named ``name`` in warnings and in each event's ``origin.file``.

    This is how a Spark executor reads a file from HDFS or object storage without a shared
    filesystem. ``select='lifecycle'`` (or ``'kql'``) keeps only the event ids a hunt of
    that semantics looks at (each event whole: the hunt matches what it looks for against
    every field): give the result to :func:`hunt` (``events=``) to get the same answer as
    hunting the files. ``first_pass='lifecycle'`` keeps what a hunt reads first to learn what
    to look for (the installs, the service ``ImagePath`` writes, each start-type change's
    names once), and only the fields it reads of them: a front end that hunts each host alone
    adds the other hosts' to each host's events (see :func:`anchor_ids`).
    """
    table, problems, stats = _svchunt.read_events_from_bytes(
        name,
        bytes(data) if not isinstance(data, bytes) else data,
        None if ids is None else [int(i) for i in ids],
        select,
        local_tz,
        first_pass,
    )
    _warn(problems)
    return _with_stats(table, stats)


class HuntResult:
    """What a hunt found. Tables are built on first use.

    - ``findings``: one row per finding (:data:`FINDINGS_COLUMNS`); under
      ``semantics='kql'``, the seed query's rows (SourceTime, SourceEventID, TargetTime,
      TargetEventID, Computer, UserName, InstalledService, Exe);
    - ``campaigns``, ``coverage``, ``edges`` (the lateral-movement graph): as in the
      command's JSON, ``-f graph`` for the edges;
    - ``stats``: what was read and skipped, and why; ``warnings``: each located problem.
    """

    def __init__(self, native: Any) -> None:
        self._native = native
        self._tables: Dict[str, _pa.Table] = {}
        self.semantics: str = native.semantics
        self.stats: Dict[str, Any] = _json.loads(native.stats)
        self.warnings: List[ReadWarning] = [ReadWarning(*w) for w in native.warnings]

    def _table(self, what: str) -> _pa.Table:
        if what not in self._tables:
            table, problems = self._native.table(what)
            _warn(problems, stacklevel=4)
            self._tables[what] = table
        return self._tables[what]

    @property
    def findings(self) -> _pa.Table:
        """One row per finding (or seed-query row), in the command's order."""
        return self._table("findings")

    @property
    def campaigns(self) -> _pa.Table:
        """Bursts of findings on one host by one account with one kind of command."""
        return self._table("campaigns")

    @property
    def coverage(self) -> _pa.Table:
        """What each host's logs could show (one boolean per evidence kind)."""
        return self._table("coverage")

    @property
    def edges(self) -> _pa.Table:
        """The lateral-movement graph: one row per (source, target host)."""
        return self._table("edges")

    def to_pandas(self) -> "Any":
        """The findings as a pandas DataFrame (nested columns as dicts and lists)."""
        return self.findings.to_pandas()

    def render(self, format: str = "json", *, csv_raw: bool = False) -> str:
        """The answer exactly as ``svchunt hunt -f <format>`` writes it: ``json``, ``jsonl``,
        ``csv``, ``table``, ``graph``, ``dot`` or ``html``."""
        return self._native.render(format, csv_raw)

    def json_lines(self, what: str = "findings") -> List[str]:
        """Each finding (or campaign, coverage line, edge) as one line of JSON, exactly as
        ``-f jsonl`` (or ``-f json``) writes it."""
        return self._native.json_lines(what)

    def __len__(self) -> int:
        return self.findings.num_rows

    def __repr__(self) -> str:
        return f"<svchunt.HuntResult {self.semantics}: {len(self)} finding(s)>"


def hunt(
    paths: Optional[Union[PathLike, Iterable[PathLike]]] = None,
    events: Optional[Union[_pa.Table, _pa.RecordBatch, Any]] = None,
    *,
    semantics: str = "lifecycle",
    window: Optional[Duration] = None,
    tolerance: Optional[Duration] = None,
    include_benign: bool = False,
    allow: Optional[PathLike] = None,
    threads: Optional[int] = None,
    local_tz: Optional[str] = None,
) -> HuntResult:
    """Hunt service executions in ``paths`` (files and folders) or in ``events`` (an events
    table, as :func:`read_events` returns it; a pandas DataFrame of one is converted).

    The options are the command's: ``semantics`` (``'lifecycle'``, or ``'kql'`` for the seed
    Sentinel query's exact answer), ``window`` and ``tolerance`` (``'24h'``, ``'2s'`` or a
    ``timedelta``), ``include_benign`` (``--all``), ``allow`` (an allow-list file),
    ``threads`` (``-j``), ``local_tz`` (``--local-tz``).
    """
    if (paths is None) == (events is None):
        raise ValueError("give paths or events (one of them)")
    options = {
        "semantics": semantics,
        "window": _duration("window", window),
        "tolerance": _duration("tolerance", tolerance),
        "include_benign": bool(include_benign) if include_benign else None,
        "allow": None if allow is None else _os.fspath(allow),
        "threads": threads,
        "local_tz": local_tz,
    }
    if events is not None:
        if isinstance(events, _pa.RecordBatch):
            events = _pa.Table.from_batches([events])
        elif not isinstance(events, _pa.Table):
            events = _pa.Table.from_pandas(events, preserve_index=False)
        native = _svchunt.hunt(None, events, options)
    else:
        native = _svchunt.hunt(_paths(paths), None, options)
    _warn(native.warnings)
    return HuntResult(native)


def anchor_ids(semantics: str = "lifecycle") -> List[int]:
    """The event ids a hunt of ``semantics`` reads first to learn what to look for in the rest
    (for the lifecycle: the service installs, 7045 and 4697, the start-type changes, 7040, and
    Sysmon's registry writes, 13, of which it keeps the services' ``ImagePath`` writes only).

    The engine looks for the evidence of every install in the whole hunt, on every host: a
    front end that hunts each host alone (the Spark job) adds the other hosts' first-pass
    events (:func:`read_events_from_bytes` with ``first_pass=``) to each host's, and keeps only
    that host's answer, to get the whole hunt's answer."""
    return _svchunt.anchor_ids(semantics)


def host_key(computer: str) -> str:
    """The key svchunt puts one host's events together by: the first label of the computer
    name, ASCII lower-cased (``WKS01.corp.local`` and ``wks01`` are one host)."""
    return _svchunt.host_key(computer)


def events_schema() -> _pa.Schema:
    """The events table's schema."""
    return _svchunt.events_schema()


def findings_schema() -> _pa.Schema:
    """The findings table's schema."""
    return _svchunt.findings_schema()
