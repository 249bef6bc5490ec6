#!/usr/bin/env bash
# Idempotent setup: project venv from the pinned locks, the Norwegian spaCy model,
# and the widget's npm packages. Re-running when nothing changed takes seconds:
# a stamp records the hash of everything that decides what gets installed.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${RAKEL_VENV:-.venv}
PYTHON=${RAKEL_PYTHON:-python3}

fingerprint() {
  local f
  for f in requirements/*.txt scripts/setup.sh scripts/install_model.py \
    widget/package.json widget/package-lock.json; do
    if [ -f "$f" ]; then cat "$f"; fi
  done | sha256sum | cut -c1-32
}
want=$(fingerprint)
stamp="$VENV/.rakel-setup"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

echo "==> setup: $VENV"
if ! "$PYTHON" -c 'import sys; sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 11) else 1)'; then
  echo "ERROR: Rakel needs Python 3.10 or 3.11 (Rasa 3.6); '$PYTHON' is $("$PYTHON" --version 2>&1)." >&2
  echo "Set RAKEL_PYTHON to a suitable interpreter." >&2
  exit 1
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"

# install_lock PYTHON LOCK [PIP OPTIONS]: install one lock into PYTHON's environment in
# pip's hash-checking mode. A file whose sha256 is not one the lock records is refused,
# and so is a pin without hashes. Re-hash a lock only after changing a pin on purpose
# (`make lock-hashes`), never to get past a mismatch.
install_lock() {
  local python=$1 lock=$2
  shift 2
  if ! "$python" -m pip install -q --disable-pip-version-check --no-deps --require-hashes \
    "$@" -r "$lock"; then
    echo "ERROR: setup stopped: pip refused or failed to install $lock (pip's reason is above)." >&2
    echo "If it says the hashes do not match, the file it got is not the one recorded in" >&2
    echo "$lock: find out why before anything else. After a deliberate pin change, run" >&2
    echo "'make lock-hashes' and review the diff." >&2
    exit 1
  fi
}

# 1. Rasa's dependencies exactly as in the verified freeze (no resolver surprises).
install_lock "$VENV/bin/python" requirements/rasa-lock.txt
# 2. Rasa itself: it declares Python <3.11 but runs on 3.11 with the pins above.
install_lock "$VENV/bin/python" requirements/rasa-itself-lock.txt --ignore-requires-python
# 3. Our own pinned dependencies. The `bot` package is not installed: every command
#    runs from the checkout (see bot/cli.py), so several checkouts can share a venv.
install_lock "$VENV/bin/python" requirements/app-lock.txt
# 4. The Norwegian spaCy pipeline; refuses to continue without it.
"$VENV/bin/python" scripts/install_model.py
# 5. Front-end packages for the web widget (pinned by package-lock.json).
if [ -f widget/package-lock.json ]; then
  (cd widget && npm ci --no-audit --no-fund --loglevel=error)
fi

echo "$want" > "$stamp"
echo "==> setup done"
