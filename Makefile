# The two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3.12
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
PORT ?= 8000
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: run test install migrate lint format bench clean

## run: install, migrate, seed demo data, start web + worker + beat (embedded defaults)
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "  Admin:   http://127.0.0.1:$(PORT)/admin/"
	@echo "  API:     http://127.0.0.1:$(PORT)/api/v1/   (docs: /api/docs/)"
	@echo ""
	PORT=$(PORT) $(BIN)/honcho start web worker beat

## test: create the environment if missing and run the whole suite
test: install
	$(BIN)/pytest $(PYTEST_ARGS)

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml uv.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv sync --frozen --inexact
	@touch $@

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var
