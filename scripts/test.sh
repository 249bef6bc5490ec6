#!/usr/bin/env bash
# The whole test suite: data validation, then pytest (which trains or reuses the
# cached model and starts the real processes for the end-to-end tests), once in each
# Python environment: the Rasa one, and the web service's and the worker's (which tests
# run where is declared once, in tests/conftest.py).
#   scripts/test.sh [pytest args]         everything
#   scripts/test.sh --fast [pytest args]  the quick loop (`make test-fast`): pytest only,
#                                         nothing that needs a model, browser or services
set -uo pipefail
cd "$(dirname "$0")/.."
venv="${RAKEL_VENV:-.venv}"
case "$venv" in /*) ;; *) venv="$PWD/$venv" ;; esac  # relative to the checkout, or absolute
export PATH="$venv/bin:$PATH"
export RASA_TELEMETRY_ENABLED=false
# SQLAlchemy 1.4 then warns about every API 2.0 removed (errors in our code: pyproject.toml).
export SQLALCHEMY_WARN_20=1
FAST="not e2e and not browser and not scaled and not postgres and not training"

# pytest in the Rasa environment, then in the web environment. "No tests collected"
# (exit 5) is a failure only when it happens in both: a file given on the command line
# belongs to one environment.
pytest_in_both() {
  local web_python status rasa_status web_status
  web_python=$(python -c 'from bot.settings import process_python; print(process_python("web"))')
  echo "==> pytest in the Rasa environment ($(dirname "$(dirname "$(command -v python)")"))"
  python -m pytest "$@"
  rasa_status=$?
  echo "==> pytest in the web environment ($(dirname "$(dirname "$web_python")"))"
  "$web_python" -m pytest "$@"
  web_status=$?
  for status in "$rasa_status" "$web_status"; do
    if [ "$status" -ne 0 ] && [ "$status" -ne 5 ]; then return "$status"; fi
  done
  if [ "$rasa_status" -eq 5 ] && [ "$web_status" -eq 5 ]; then
    echo "pytest collected no tests: that is a failure here" >&2
    return 1
  fi
  return 0
}

if [ "${1:-}" = "--fast" ]; then
  shift
  pytest_in_both -q -m "$FAST" "$@"
  exit $?
fi

scripts/setup.sh || exit 1
scripts/test-deps.sh || exit 1
ruff check bot devtools tests scripts teams || { echo "ruff found problems" >&2; exit 1; }
ruff format --check bot devtools tests scripts teams || { echo "ruff format: run make format" >&2; exit 1; }
mypy || { echo "mypy found type errors (configured in pyproject.toml)" >&2; exit 1; }
python -m bot.cli train || exit 1
python -m bot.cli validate || { echo "rasa data validate failed" >&2; exit 1; }

pytest_in_both "$@"
