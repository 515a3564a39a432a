# The two commands a newcomer needs: `make run` and `make test`. Everything else is a step of them.
SHELL := /bin/bash
export RASA_TELEMETRY_ENABLED := false
export PYTHONPATH := $(CURDIR)
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(PY) -m rasa

.PHONY: run cluster test audit system-deps venv js train db evaluate bench validate test-js test-e2e test-cluster test-stories test-nlu clean spacy compare-spacy

run: venv train db  ## set up what is missing, then start every service in the foreground
	$(PY) -m scripts.stack

# PostgreSQL, Redis, HAProxy and supervisor come from Debian when missing (scripts/system_deps.sh).
cluster: venv train  ## the scaled topology: PostgreSQL, Redis, HAProxy, 2x Rasa/actions/live-agent, supervised
	$(PY) -m scripts.cluster $(if $(CLUSTER_PORT_BASE),--port-base $(CLUSTER_PORT_BASE))

# The database tests (tests/handoff, tests/actions) run on SQLite and on a throwaway PostgreSQL
# (tests/servers.py); `pytest --database sqlite` leaves PostgreSQL out while iterating.
test: system-deps venv js train  ## the whole test suite (what CI runs)
	$(MAKE) validate
	$(MAKE) test-js
	$(PY) -m pytest -q --ignore=tests/e2e --ignore=tests/cluster
	$(MAKE) test-e2e
	$(MAKE) test-cluster
	$(MAKE) test-stories
	$(MAKE) test-nlu

# pip-audit over uv.lock, through uvx (it can't live in the project's env: Rasa pins packaging).
# Fails on a known vulnerability missing from scripts/audit_allowlist.yml; an unreachable
# advisory service is reported as NOT AUDITED, not fatal.
audit: venv  ## known vulnerabilities of the locked requirements (allowlist: scripts/audit_allowlist.yml)
	$(PY) -m scripts.audit

system-deps:  ## Chromium, PostgreSQL, Redis, npm, HAProxy, supervisor from Debian, when missing (needs root)
	scripts/system_deps.sh

venv: $(VENV)/.synced

# --compile-bytecode: the packages' .pyc written once here (30 s), not compiled from source at every
# start where Python may not write them (PYTHONDONTWRITEBYTECODE, a read-only tree): Rasa's start
# to first answer 46 s -> 18 s (docs/benchmarks.md, "Start to first answer").
$(VENV)/.synced: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet uv
	uv sync --frozen --compile-bytecode
	@touch $@

# npm packages of the tests (axe-core for the accessibility checks), exactly as package-lock.json says.
js: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	scripts/system_deps.sh npm
	npm ci --no-audit --no-fund
	@touch $@

train: venv  ## train the model if its data, domain, config or knowledge changed
	$(PY) -m scripts.train

db: venv  ## create or upgrade the database and load the demo data (idempotent)
	$(PY) -m bot.accounts.cli migrate
	$(PY) -m bot.accounts.cli seed
	$(PY) -m handoff migrate
	$(PY) -m handoff seed

validate: venv
	$(RASA) data validate --data data --domain domain.yml --config config.yml --fail-on-warnings

test-js: js  ## unit tests of the pages' shared modules (handoff/static/lib/) under node's test runner
	node --test tests/js/

# Playwright's sync API keeps an event loop running in the process, so the browser tests get a
# pytest process of their own.
test-e2e: system-deps train js  ## the end-to-end tests in Chromium against the real stack
	$(PY) -m pytest -q tests/e2e

# Starts `make cluster` itself on free ports and stops it at the end.
test-cluster: system-deps train  ## the scaled topology over the contract: cross-instance walk, kill -9 faults, Ctrl-C
	$(PY) -m pytest -q tests/cluster

# endpoints.yml hands Rasa the action server's secret as ${ACTION_SERVER_SECRET}: the default when unset.
test-stories: train
	ACTION_SERVER_SECRET="$${ACTION_SERVER_SECRET:-$$($(PY) -c 'from bot.settings import get_settings; print(get_settings().action_server_secret)')}" \
	$(RASA) test core --model models/bolt.tar.gz --stories tests/stories --endpoints endpoints.yml \
		--out results/stories --fail-on-prediction-errors

test-nlu: train  ## held-out NLU evaluation; fails below the thresholds in scripts/nlu_gate.py
	$(PY) -m scripts.nlu_gate

clean:
	rm -rf models results var data/lookups

evaluate: venv train  ## NLU quality: held-out set, 5-fold cross-validation, entities, language -> reports/evaluation.md
	$(PY) -m scripts.evaluate

spacy: venv  ## the blank de/en spaCy pipelines (lookup lemmatizer, entity_ruler from knowledge/) under var/spacy/
	$(PY) -m scripts.build_spacy

compare-spacy: venv spacy  ## spaCy / rapidfuzz against what the bot uses (docs/evaluation.md); --intents trains a variant
	$(PY) -m scripts.compare_spacy

bench: venv train  ## speed: REST + widget load, startup, training, memory, vs a stock `rasa init` bot -> reports/benchmarks.md
	$(PY) -m scripts.bench
