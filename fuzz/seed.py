#!/usr/bin/env python3
"""Build fuzz/corpus/<target>/ seeds from the shared EVTX samples, the lab logs and the text
fixtures. The seeds are not committed: the shared corpus's data stays out of the repository."""
import glob, gzip, io, os, struct, zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "corpus")
EVTX = sorted(glob.glob("/work/shared/corpus/evtx-rs/samples/*.evtx")) + sorted(
    glob.glob(os.path.join(ROOT, "examples/lab/*/System.evtx")))
HEADER, CHUNK = 4096, 65536

for t in ("evtx_file", "evtx_scan", "json_lines", "csv_export", "containers", "xml_events",
          "evtx_stream", "archives"):
    os.makedirs(os.path.join(OUT, t), exist_ok=True)

def put(target, name, data):
    with open(os.path.join(OUT, target, name), "wb") as f:
        f.write(data)

for i, path in enumerate(EVTX):
    b = open(path, "rb").read()
    for flag in (0, 6):  # as is; CRCs fixed with an unused chunk 0 in front
        put("evtx_file", f"seed{i:02d}_{flag}", bytes([flag]) + b[:HEADER + CHUNK])
    if len(b) >= HEADER + 2 * CHUNK:  # chunk 1 as itself, to reach the fast path unaltered
        put("evtx_file", f"seed{i:02d}_c1", bytes([4]) + b[:HEADER] + b[HEADER + CHUNK:HEADER + 2 * CHUNK])
    chunk = b[HEADER:HEADER + CHUNK]
    if len(chunk) >= 512:
        free = struct.unpack_from("<I", chunk, 48)[0]
        put("evtx_scan", f"seed{i:02d}", struct.pack("<H", min(free // 2, 0xFFFF)) + chunk)

def zipped(members):
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return z.getvalue()

for path in sorted(glob.glob(os.path.join(ROOT, "tests/fixtures/exports/*"))):
    b, base = open(path, "rb").read()[:CHUNK], os.path.basename(path)
    put("csv_export" if base.endswith(".csv") else "json_lines", base, b)
    put("containers", base, b)
    put("containers", base + ".gz", gzip.compress(b))
    put("containers", base + ".zip", zipped([(base, b)]))

if EVTX:
    small = open(EVTX[-1], "rb").read()[:HEADER + CHUNK]
    inner = open(os.path.join(OUT, "containers", "evtx_dump.jsonl.zip"), "rb").read()
    put("containers", "evtx.zip", zipped([("System.evtx", small), ("inner.zip", inner)]))
    put("containers", "evtx.gz", gzip.compress(small))

# The new forms' committed samples (tests/fixtures/forms), written by the project's writers.
FORMS = os.path.join(ROOT, "tests/fixtures/forms")
for path in sorted(glob.glob(os.path.join(FORMS, "*"))):
    if os.path.isdir(path):
        continue
    b, base = open(path, "rb").read(), os.path.basename(path)
    if base.endswith(".xml"):
        put("xml_events", base, b[:CHUNK])
    elif base.endswith(".json") or base.endswith(".ndjson"):
        put("json_lines", base, b[:CHUNK])
    elif base.endswith(".csv"):
        put("csv_export", base, b[:CHUNK])
    put("archives", base, bytes([0]) + b)
for path in sorted(glob.glob(os.path.join(FORMS, "kape/**/*.evtx"), recursive=True)):
    b = open(path, "rb").read()
    put("evtx_stream", os.path.basename(path), bytes([0]) + b[:HEADER + CHUNK])
