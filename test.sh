#!/usr/bin/env bash
# Set up and run every test: Python packages, Debian's chromium for the browser tests and prometheus for
# the Prometheus reader test, npm's socket.io-client for the Socket.IO browser test, pytest.
set -euo pipefail
cd "$(dirname "$0")"
pip install -q -r requirements-dev.txt
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "test.sh: install Chromium (Debian: apt-get install chromium) to run the browser tests" >&2
  fi
fi
if ! command -v prometheus >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
  else
    echo "test.sh: install Prometheus (Debian: apt-get install prometheus) to run the Prometheus reader test" >&2
  fi
fi
if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "test.sh: install npm (Debian: apt-get install nodejs npm) to run the Socket.IO browser test" >&2
  fi
fi
if command -v npm >/dev/null 2>&1; then  # the real socket.io-client for Chromium, pinned by tests/js/package-lock.json
  npm ci --prefix tests/js --no-audit --no-fund --silent
fi
python -m pytest "$@"
