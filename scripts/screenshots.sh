#!/usr/bin/env bash
# Takes docs/screenshots/{download,seed,tracker}-page.png with headless chromium:
# runs the browser page test (tests/e2e/browser_pages.sh: a tracker, a seeder and a
# rate-capped downloader on loopback) and saves one screenshot of each page at
# 1280x900. Not run by CI; needs a build (scripts/build.sh) and chromium.
set -euo pipefail
# No port mapping requests or LAN announces leave this run (docs: README "Across networks").
export P2P_NO_DISCOVERY=1
cd "$(dirname "$0")/.."
mkdir -p docs/screenshots
P2P_SCREENSHOTS="$PWD/docs/screenshots" bash tests/e2e/browser_pages.sh build/bin
ls -l docs/screenshots
