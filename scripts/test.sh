#!/usr/bin/env bash
# Install everything the tests need, then run every test.
#   bash scripts/test.sh [pytest options]
# Installs Debian's chromium for the browser tests when it is missing (needs
# root or sudo), creates .venv, installs requirements-dev.txt, checks the code
# with ruff and runs pytest. Set ALVH_DATA_DIR to a folder of the real market
# data to run the calibration and known-day tests too (they skip otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then as_root=(); else as_root=(sudo); fi
  echo "Installing Debian's chromium for the browser tests..."
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

python3 -m venv .venv
# (grep drops pip's notes about unreachable extra index folders some machines configure)
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt 2>&1 \
  | { grep -v "^WARNING: Location 'file:" || true; }

.venv/bin/ruff check .
export YF_DISABLE_CURL_CFFI=1
exec .venv/bin/python -m pytest "$@"
