#!/usr/bin/env bash
# Install Safehold with its test tools into .venv and run the tests.
#   ./scripts/test.sh                 # SQLite, the embedded default
#   SAFEHOLD_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \
#   SAFEHOLD_TEST_REDIS_URL=redis://127.0.0.1:6379/15 ./scripts/test.sh
# Extra arguments go to pytest (for example -k sessions, or -m "not browser").
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"

# The browser tests drive Debian's Chromium (Playwright cannot download a browser here).
if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
        echo "installing Debian's chromium for the browser tests"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "note: /usr/bin/chromium is missing; browser tests will be skipped (apt-get install chromium)"
    fi
fi

exec .venv/bin/python -m pytest "$@"
