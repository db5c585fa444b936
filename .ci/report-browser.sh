#!/usr/bin/env bash
# Installs headless Chromium for tests/report_browser.rs (the HTML report opened in a real
# browser). Without it those tests print why they skip and pass, so this is what makes them
# count in CI. Debian's `chromium` package; fonts-dejavu-core so screenshots have glyphs.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "warning: no apt-get; install Chromium at /usr/bin/chromium (or set SVCHUNT_CHROMIUM) for the browser tests" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
