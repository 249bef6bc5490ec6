#!/usr/bin/env bash
# The whole test suite: data validation, then pytest (which trains or reuses the
# cached model and starts the real processes for the end-to-end tests).
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/${RAKEL_VENV:-.venv}/bin:$PATH"
export RASA_TELEMETRY_ENABLED=false

scripts/setup.sh || exit 1
scripts/test-deps.sh || exit 1
ruff check bot tests scripts teams || { echo "ruff found problems" >&2; exit 1; }
ruff format --check bot tests scripts teams || { echo "ruff format: run make format" >&2; exit 1; }
mypy || { echo "mypy found type errors (configured in pyproject.toml)" >&2; exit 1; }
python -m bot.cli train || exit 1
python -m bot.cli validate || { echo "rasa data validate failed" >&2; exit 1; }

python -m pytest "$@"
status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here" >&2
  exit 1
fi
exit "$status"
