#!/usr/bin/env bash
# The environment of the web service and the worker (docs/architecture.md), from
# requirements/web-lock.txt: current aiohttp and SQLAlchemy, no Rasa. Called by
# scripts/setup.sh. It has its own stamp, so a change to this lock reinstalls this
# environment only (seconds) and never the Rasa one (minutes); re-running when nothing
# changed takes well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install_lock.sh

PYTHON=${RAKEL_PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 10) else 1)'; then
  echo "ERROR: the web environment needs Python 3.10 or newer; '$PYTHON' is $("$PYTHON" --version 2>&1)." >&2
  exit 1
fi
# The same setting and default as bot/settings.py (environment_dir), which the processes
# read; not imported from there: the image build runs setup before the code is copied in.
WEB_VENV=${RAKEL_WEB_VENV:-.venv-web}

want=$(cat requirements/web-lock.txt scripts/setup_web.sh scripts/install_lock.sh | sha256sum | cut -c1-32)
stamp="$WEB_VENV/.rakel-setup"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

echo "==> setup: $WEB_VENV (web service and worker)"
# Built afresh on every change, so a package dropped from the lock is gone too and the
# environment holds exactly the lock. Only a directory that is a virtualenv is removed.
if [ -f "$WEB_VENV/pyvenv.cfg" ]; then
  rm -rf "$WEB_VENV"
elif [ -e "$WEB_VENV" ]; then
  echo "ERROR: $WEB_VENV exists and is not a virtualenv; move it away or set RAKEL_WEB_VENV." >&2
  exit 1
fi
"$PYTHON" -m venv "$WEB_VENV"
install_lock "$WEB_VENV/bin/python" requirements/web-lock.txt
# Every dependency of every package is in the lock (a missing one fails here, not at run time).
"$WEB_VENV/bin/python" -m pip check >/dev/null || {
  "$WEB_VENV/bin/python" -m pip check >&2
  echo "ERROR: requirements/web-lock.txt is incomplete (above)." >&2
  exit 1
}
echo "$want" > "$stamp"
echo "==> setup done: $WEB_VENV"
