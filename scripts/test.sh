#!/usr/bin/env bash
# The whole test suite: the model's training (or its cached copy) in the background
# while lint, types, data validation and the web service's and worker's environment's
# pytest run, then pytest in the Rasa environment (which starts the real processes for
# the end-to-end tests). Which tests run where is declared once, in tests/conftest.py.
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

# pytest in the Rasa environment and in the web environment. "No tests collected"
# (exit 5) is a failure only when it happens in both: a file given on the command line
# belongs to one environment.
pytest_rasa() {
  echo "==> pytest in the Rasa environment ($(dirname "$(dirname "$(command -v python)")"))"
  python -m pytest "$@"
}

pytest_web() {
  local web_python
  web_python=$(python -c 'from bot.settings import process_python; print(process_python("web"))')
  echo "==> pytest in the web environment ($(dirname "$(dirname "$web_python")"))"
  "$web_python" -m pytest "$@"
}

both_passed() {  # rasa_status web_status
  local status
  for status in "$1" "$2"; do
    if [ "$status" -ne 0 ] && [ "$status" -ne 5 ]; then return "$status"; fi
  done
  if [ "$1" -eq 5 ] && [ "$2" -eq 5 ]; then
    echo "pytest collected no tests: that is a failure here" >&2
    return 1
  fi
  return 0
}

if [ "${1:-}" = "--fast" ]; then
  shift
  pytest_rasa -q -m "$FAST" "$@"
  rasa_status=$?
  pytest_web -q -m "$FAST" "$@"
  both_passed "$rasa_status" $?
  exit $?
fi

scripts/setup.sh || exit 1
scripts/test-deps.sh || exit 1

# The model trains while the checks and the web environment's tests run: none of them
# needs it, and the training (its logistic regression above all) leaves one of the two
# cores idle for minutes. Its output follows when it is done.
train_log=$(mktemp)
python -m bot.cli train >"$train_log" 2>&1 &
training=$!
stop() {
  kill "$training" 2>/dev/null
  wait "$training" 2>/dev/null
  rm -f "$train_log"
  echo "$1" >&2
  exit 1
}
ruff check bot devtools tests scripts teams || stop "ruff found problems"
ruff format --check bot devtools tests scripts teams || stop "ruff format: run make format"
mypy || stop "mypy found type errors (configured in pyproject.toml)"
python -m bot.cli validate || stop "rasa data validate failed"
pytest_web "$@"
web_status=$?

echo "==> training (started before the checks)"
wait "$training"
train_status=$?
cat "$train_log"
rm -f "$train_log"
[ "$train_status" -eq 0 ] || exit 1

pytest_rasa "$@"
both_passed $? "$web_status"
