#!/usr/bin/env bash
# Set up and run every test: Python packages, Debian's chromium for the browser tests and prometheus for
# the Prometheus reader test, prometheus-alertmanager for the Alertmanager push test, pytest.
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
if ! command -v prometheus-alertmanager >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus-alertmanager >/dev/null
  else
    echo "test.sh: install Alertmanager (Debian: apt-get install prometheus-alertmanager) to run the push test" >&2
  fi
fi
python -m pytest "$@"
