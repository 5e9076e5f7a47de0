#!/usr/bin/env bash
# Set up and run every test: the Python packages, then the real programs the tests drive (Debian's
# chromium for the browser tests, prometheus for the Prometheus reader, prometheus-alertmanager for the
# Alertmanager push, npm for the pinned socket.io-client that Chromium loads), then pytest.
set -euo pipefail
cd "$(dirname "$0")"
pip install -q -r requirements-dev.txt

need() {  # need <command> <Debian packages> <what for>: install them with apt-get when root and missing
  if command -v "$1" >/dev/null 2>&1; then return; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq; APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $2 >/dev/null
  else
    echo "test.sh: install $2 (Debian: apt-get install $2) to run $3" >&2
  fi
}
need chromium chromium "the browser tests"
need prometheus prometheus "the Prometheus reader test"
need prometheus-alertmanager prometheus-alertmanager "the Alertmanager push test"
need npm "nodejs npm" "the Socket.IO browser test"
if command -v npm >/dev/null 2>&1; then  # the real socket.io-client for Chromium, pinned by tests/js/package-lock.json
  npm ci --prefix tests/js --no-audit --no-fund --silent
fi
# real PRSM nodes for tests/test_real_nodes.py: prsm-network 1.7.0 from PyPI in a virtual environment of its own
if [ ! -x .venv-prsm/bin/prsm ]; then
  python -m venv .venv-prsm
  .venv-prsm/bin/pip install -q prsm-network==1.7.0
fi
python -m pytest -n "${PYTEST_WORKERS:-2}" --dist loadgroup "$@"  # a module per worker at a time (tests/conftest.py)
