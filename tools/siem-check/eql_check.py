#!/usr/bin/env python3
"""Run an EQL query with the `eql` package over Winlogbeat/ECS NDJSON events.

Usage: eql_check.py QUERY.eql EVENTS.ndjson
Prints one JSON object per sequence found: {"host": host.name, "service": the first event's
winlog.event_data.ServiceName, "start": its @timestamp, "end": the last event's @timestamp}.
Exits 1 when the query does not parse.
"""
import json
import sys
from datetime import datetime

import eql


def millis(ts):
    # ECS @timestamp is RFC 3339; the engine compares plain numbers, in the unit set below.
    return int(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000)


def main(query_path, events_path):
    with open(query_path, encoding="utf-8") as f:
        text = f.read()
    try:
        with eql.parser.ignore_missing_functions:
            query = eql.parse_query(text)
    except eql.EqlError as e:
        print(f"eql-check: error: {e}", file=sys.stderr)
        return 1
    events = []
    with open(events_path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                doc = json.loads(line)
                doc["timestamp"] = millis(doc["@timestamp"])
                events.append(doc)
    events.sort(key=lambda d: d["timestamp"])
    found = []
    # time_unit: timestamps are milliseconds, so maxspan=24h means 86,400,000 of them.
    engine = eql.PythonEngine({"time_unit": 1000})
    engine.add_query(query)
    engine.add_output_hook(lambda result: found.append(result.events))
    engine.stream_events([eql.Event.from_data(e) for e in events])
    for seq in found:
        first, last = seq[0].data, seq[-1].data
        print(json.dumps({
            "host": first["host"]["name"],
            "service": first["winlog"]["event_data"]["ServiceName"],
            "start": first["@timestamp"],
            "end": last["@timestamp"],
        }))
    print(f"eql-check: {len(found)} sequence(s) over {len(events)} event(s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
