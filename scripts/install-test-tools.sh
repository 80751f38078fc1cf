#!/bin/sh
# What the tests need besides Python packages: Debian's chromium (the dashboard and the JavaScript client's browser
# build are tested in it) and the JavaScript client's npm packages, from its lock file.
set -eu
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
  else
    echo "install-test-tools: chromium not found; the browser tests will be skipped (Debian: sudo apt-get install chromium)" >&2
  fi
fi
if [ -f clients/js/package-lock.json ]; then
  if command -v npm >/dev/null 2>&1; then
    npm ci --prefix clients/js --no-audit --no-fund --loglevel=error
  else
    echo "install-test-tools: npm not found; the JavaScript client's tests will be skipped (install Node.js 20)" >&2
  fi
fi
