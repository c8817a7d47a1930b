#!/usr/bin/env bash
# Installs everything, builds a demo store from the real records in demo/corpus, and serves the web UI on
# http://127.0.0.1:8000 (Ctrl-C stops it).  PAPERATLAS_DATA_DIR picks where the store goes (default ./demo-data).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup-env.sh
setup_venv
exec .venv/bin/paperatlas --data-dir "${PAPERATLAS_DATA_DIR:-$PWD/demo-data}" demo --host 127.0.0.1 --port "${PORT:-8000}"
