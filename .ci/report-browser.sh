#!/usr/bin/env bash
# Installs headless Chromium for tests/reports/report_browser.rs (the HTML report opened in a real
# browser): Debian's `chromium` package; fonts-dejavu-core so screenshots have glyphs. Any
# failure stops CI (under CI the browser tests fail rather than skip without it).
set -euo pipefail

if [ -x "${SVCHUNT_CHROMIUM:-/usr/bin/chromium}" ]; then
  exit 0
fi
command -v apt-get >/dev/null 2>&1 || {
  echo "error: no apt-get to install Chromium; install it at /usr/bin/chromium or set SVCHUNT_CHROMIUM" >&2
  exit 1
}
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
test -x /usr/bin/chromium
