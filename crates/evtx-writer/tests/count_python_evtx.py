"""Parse EVTX files with python-evtx: verify the file header and every chunk's CRC32s, render
every record to XML, and print "<records> <errors>" for all files together.

Usage: count_python_evtx.py FILE.evtx...
"""
import sys

from Evtx.Evtx import Evtx

records = errors = 0
for path in sys.argv[1:]:
    try:
        with Evtx(path) as log:
            header = log.get_file_header()
            if not header.verify():
                errors += 1
                print(f"{path}: file header does not verify", file=sys.stderr)
            for chunk in header.chunks():
                if not chunk.verify():
                    errors += 1
                    print(f"{path}: chunk at {chunk.offset():#x} does not verify", file=sys.stderr)
            for record in log.records():
                record.xml()
                records += 1
    except Exception as e:  # noqa: BLE001 - any failure is an error to count
        errors += 1
        print(f"{path}: {e!r}", file=sys.stderr)
print(records, errors)
