# Shared set-up for scripts/demo.sh and scripts/test.sh (sourced, not run).
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"

setup_venv() {
    if [ ! -x .venv/bin/python ]; then
        "$PYTHON" -m venv .venv
    fi
    .venv/bin/python -m pip install -q --upgrade pip
    # torch first, pinned to the CPU build, so that the embedding model's dependencies do not pull CUDA wheels.
    .venv/bin/python -m pip install -q "torch==2.13.0"
    .venv/bin/python -m pip install -q -e ".[all]"
}

setup_chromium() {
    # Browser tests drive Debian's Chromium (never a browser download of Playwright's own).
    if ! command -v chromium >/dev/null 2>&1; then
        if [ "$(id -u)" = 0 ]; then
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
        elif command -v sudo >/dev/null 2>&1; then
            sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
        else
            echo "setup: chromium is not installed and cannot be installed without root" >&2
        fi
    fi
}
