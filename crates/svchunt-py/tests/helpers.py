"""Turning the command's JSON and the package's Arrow tables into the same plain values."""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List

import pyarrow as pa

_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$")

# Where the JSON of a finding holds times (the Arrow table holds them as timestamps).
FINDING_TIMES = {("created",), ("deleted",), ("source", "logon_time"), ("evidence", "time")}


def ns_of(text: str) -> int:
    """An RFC 3339 UTC time, as jiff writes it, in nanoseconds since 1970."""
    import datetime as dt

    m = _TIME.match(text)
    assert m, f"not a UTC time: {text!r}"
    whole = dt.datetime.fromisoformat(m.group(1)).replace(tzinfo=dt.timezone.utc)
    seconds = int(whole.timestamp())
    frac = (m.group(2) or "").ljust(9, "0")
    return seconds * 1_000_000_000 + int(frac)


def _times_as_ints(t: pa.DataType) -> pa.DataType:
    if pa.types.is_timestamp(t):
        return pa.int64()
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, _times_as_ints(f.type), f.nullable) for f in t])
    if pa.types.is_list(t):
        return pa.list_(pa.field(t.value_field.name, _times_as_ints(t.value_type), t.value_field.nullable))
    return t


def rows(table: pa.Table) -> List[Dict[str, Any]]:
    """The table's rows as plain values, times as nanoseconds (exact, unlike datetime)."""
    schema = pa.schema([pa.field(f.name, _times_as_ints(f.type), f.nullable) for f in table.schema])
    return table.cast(schema).to_pylist()


def finding_from_json(obj: Dict[str, Any]) -> Dict[str, Any]:
    """A finding of the command's JSON with its times as nanoseconds."""
    obj = json.loads(json.dumps(obj))
    for key in ("created", "deleted"):
        if obj.get(key) is not None:
            obj[key] = ns_of(obj[key])
    if obj.get("source") and obj["source"].get("logon_time") is not None:
        obj["source"]["logon_time"] = ns_of(obj["source"]["logon_time"])
    for e in obj.get("evidence", []):
        e["time"] = ns_of(e["time"])
    # The JSON leaves out a creation's reconfiguration; the table holds it as null.
    obj.setdefault("reconfiguration", None)
    if obj["reconfiguration"] is not None:
        obj["reconfiguration"]["restored"] = ns_of(obj["reconfiguration"]["restored"])
    return obj


def jsonl(text: str | bytes) -> List[Dict[str, Any]]:
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]
