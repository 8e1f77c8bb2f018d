#!/usr/bin/env bash
# Make Debian's Chromium available at /usr/bin/chromium for the browser tests.
# Playwright never downloads a browser here: the tests launch this executable.
# Without root and without Chromium, print why and exit 0: the browser tests then skip.
set -euo pipefail
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then
    echo "chromium: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "chromium: $CHROMIUM is missing and we are not root; browser tests will be skipped." >&2
    echo "chromium: install it with: sudo apt-get install -y chromium" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
echo "chromium: $("$CHROMIUM" --version)"
