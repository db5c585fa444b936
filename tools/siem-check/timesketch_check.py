"""Check svchunt's `--format timesketch` output with Timesketch's own importer library.

Usage: timesketch_check.py FILE.jsonl

Every line goes through `ImportStreamer._fix_dict`, the step `add_dict`/`add_json` run on each
event before upload (it fills what is missing and normalises `datetime` with the importer's
own parser). The upload itself needs a Timesketch server and is not done. Prints one JSON
summary line; exits non-zero when a line is not an event Timesketch would take as written:
a required field missing before the fix (svchunt must not rely on the importer's defaults),
or a `datetime` the importer cannot read or reads as another instant than `timestamp`.
"""

import datetime
import json
import sys

from timesketch_import_client import importer, utils


def main(path):
    streamer = importer.ImportStreamer()
    events = 0
    problems = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            entry = json.loads(line)
            missing = [k for k in ("message", "datetime", "timestamp_desc") if k not in entry]
            if missing:
                problems.append(f"line {n}: missing {missing}")
                continue
            streamer._fix_dict(entry)
            parsed = utils.get_datestring_from_value(entry["datetime"])
            if not parsed:
                problems.append(f"line {n}: datetime {entry['datetime']!r} unreadable")
                continue
            instant = datetime.datetime.fromisoformat(parsed)
            micros = round(instant.timestamp() * 1e6)
            if micros != entry["timestamp"]:
                problems.append(f"line {n}: datetime {parsed} is not timestamp {entry['timestamp']}")
            events += 1
    print(json.dumps({"events": events, "problems": problems}))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
