#!/usr/bin/env bash
# Installs the tools that check svchunt's SIEM exports (tests/reports/export_validators.rs):
#   - Microsoft's Kusto language service, into tools/kusto-check/node_modules (from its lock file);
#   - pySigma with the sqlite backend (it converts correlation rules, temporal_ordered included);
#   - the eql package (Elastic's EQL engine in Python);
#   - Timesketch's importer library (checks `--format timesketch`).
# Versions are pinned to the ones the tests were written against. Any failure stops CI: a check
# whose tool is missing would otherwise fail anyway (under CI a test never skips).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v npm >/dev/null 2>&1 || { echo "error: npm not found (the KQL checks need Node.js)" >&2; exit 1; }
(cd tools/kusto-check && npm ci --no-audit --no-fund --loglevel=error)

if ! python3 -c 'import sigma.backends.sqlite, eql, timesketch_import_client.importer' 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check \
    'pysigma==1.5.1' 'pysigma-backend-sqlite==2.0.0' 'eql==1.0.1' \
    'timesketch-import-client==20261014'
fi
python3 -c 'import sigma.backends.sqlite, eql, timesketch_import_client.importer'
