#!/usr/bin/env bash
# Update a translation catalogue (Simplified Chinese) from the source.
#   ./scripts/messages.sh            # the main catalogue: core, accounts, vault, audit, api
#   ./scripts/messages.sh consent    # a feature app's own catalogue: src/safehold/consent/locale
# Then translate the new entries (polib, or any PO editor) and compile:
#   msgfmt --check-format -o django.mo django.po
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
export SAFEHOLD_SECRET_KEY="messages-only-$(printf 'y%.0s' $(seq 60))"
export SAFEHOLD_MASTER_KEY="messages-only"
export SAFEHOLD_DATA_DIR="$(mktemp -d)"
export PYTHONPATH="$ROOT/src:$ROOT/scripts"
trap 'rm -rf "$SAFEHOLD_DATA_DIR"' EXIT
if [ $# -eq 0 ]; then
    cd src/safehold
    ignores=(-i "*/migrations/*" -i "api/*")
    # Apps with a catalogue of their own are left to it.
    for dir in */locale; do ignores+=(-i "${dir%/locale}/*"); done
    "$ROOT/.venv/bin/django-admin" makemessages -l zh_Hans --settings=safehold.settings "${ignores[@]}"
else
    cd "src/safehold/$1"
    mkdir -p locale
    "$ROOT/.venv/bin/django-admin" makemessages -l zh_Hans --settings=messages_settings -i "migrations/*"
fi
