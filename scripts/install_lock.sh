# Sourced by scripts/setup.sh and scripts/setup_web.sh: the one way a lock is installed.
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
