# Spør 'o Rakel. `make help` lists the verbs.
VENV ?= .venv
export PATH := $(abspath $(VENV))/bin:$(PATH)
export RAKEL_VENV := $(VENV)
export RASA_TELEMETRY_ENABLED := false

.PHONY: help setup train migrate validate run test test-fast eval bench bench-training lint format teams-package scaled-up scaled-down profile bench-scaled lock-hashes

help: ## list the verbs
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: ## install everything into $(VENV) and the web env (RAKEL_WEB_VENV) if needed (seconds when nothing changed)
	@scripts/setup.sh

train: setup ## train the model if its inputs changed
	@python -m bot.cli train

migrate: setup ## bring the database schema up to date
	@python -m bot.cli migrate

lock-hashes: ## after changing a pin: re-hash every requirements/*-lock.txt from PyPI, then review the diff
	@python -m devtools.lockhash requirements/*-lock.txt

validate: setup ## rasa data validate on domain, data and knowledge
	@python -m bot.cli validate

run: train migrate ## set up, train if needed, start all processes on plain http (Ctrl-C stops them)
	@python -m bot.cli banner
	@RAKEL_COOKIE_SECURE=$${RAKEL_COOKIE_SECURE:-0} honcho start -f Procfile

test: setup ## set up if needed and run the whole test suite
	@scripts/test.sh

test-fast: setup ## the quick loop: every test that needs no trained model, browser or scaled profile
	@scripts/test.sh --fast $(ARGS)

eval: train ## first replies to real questions (dev/test), held-out accuracy, stories, CV, conversations
	@python -m bot.evaluate; status=$$?; python -m devtools.conversations && exit $$status

lint: setup ## ruff lint and format check, mypy type check
	@ruff check bot devtools tests scripts teams
	@ruff format --check bot devtools tests scripts teams
	@mypy

format: setup ## apply ruff format and the fixable lint rules
	@ruff format bot devtools tests scripts teams
	@ruff check --fix bot devtools tests scripts teams

bench: train ## load benchmark: Rakel vs a minimal Rasa assistant at 1/10/50 users
	@python -m scripts.bench

bench-training: train ## p95 at 10 users idle vs while the trainer fine-tunes (FULL=1: a full training)
	@python -m scripts.bench_training $(if $(FULL),--full)

profile: train ## where Rakel's time goes at 10 users (py-spy; flame data in var/bench/profile)
	@python -m scripts.bench --profile --levels 10 --skip-baseline

teams-package: ## build dist/rakel-teams.zip (needs RAKEL_TEAMS_APP_ID, RAKEL_PORTAL_URL)
	@python teams/package.py

scaled-up: train ## scale-out profile on this machine: PostgreSQL, Redis, nginx, 2+2 replicas
	@python -m devtools.scaled up

scaled-down: ## stop everything `make scaled-up` started
	@python -m devtools.scaled down

bench-scaled: train ## throughput of the scaled profile through nginx: 1 vs 2 replicas
	@python -m scripts.bench_scaled
