#!/usr/bin/env bash
# Installs everything PaperAtlas and its tests need, then runs the whole test suite (lint included).
# Usage: bash scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup-env.sh
setup_venv
setup_chromium
export PYTHONUNBUFFERED=1
.venv/bin/ruff check src tests
.venv/bin/lint-imports --config pyproject.toml   # the layer contract (pyproject.toml [tool.importlinter])
.venv/bin/python -m pytest "$@"
