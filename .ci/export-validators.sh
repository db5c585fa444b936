#!/usr/bin/env bash
# Installs the tools that check svchunt's SIEM exports (tests/export_validators.rs):
#   - Microsoft's Kusto language service, into tools/kusto-check/node_modules (from its lock file);
#   - pySigma with the sqlite backend (it converts correlation rules, temporal_ordered included);
#   - the eql package (Elastic's EQL engine in Python).
# Versions are pinned to the ones the tests were written against. A tool that cannot be installed
# only warns: its test then prints SKIP, and the rest of CI still runs.
set -uo pipefail
cd "$(dirname "$0")/.."

if command -v npm >/dev/null 2>&1; then
  (cd tools/kusto-check && npm ci --no-audit --no-fund --loglevel=error) ||
    echo "warning: could not install @kusto/language-service-next; the KQL checks will skip"
else
  echo "warning: npm not found; the KQL checks will skip"
fi

if ! python3 -c 'import sigma.backends.sqlite, eql' 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check \
    'pysigma==1.5.1' 'pysigma-backend-sqlite==2.0.0' 'eql==1.0.1' ||
    echo "warning: could not install pySigma/eql; the Sigma and EQL checks will skip"
fi
