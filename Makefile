# The project's vocabulary: make install | run | test | lint | bench | chaos | model | compose-test
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint format bench bench-quick chaos model clean lock docs docs-reference compose-test

install: $(STAMP)

# Installs exactly what the lock file names (hashes checked), then the project itself without deps.
$(STAMP): pyproject.toml requirements/dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Refresh the lock files after a change of pyproject.toml's dependencies (or to take new releases).
PIP_COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links --upgrade
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet pip-tools
	$(PIP_COMPILE) --output-file requirements/runtime.txt pyproject.toml
	$(PIP_COMPILE) --extra dev --output-file requirements/dev.txt pyproject.toml

run: install
	$(BIN)/dropwire run

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared services dropwire
	$(BIN)/lint-imports
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# The docs site under docs/ (MkDocs): docs-reference rewrites the pages generated from the code
# (CLI, settings, metrics, alerts); tests/unit/test_reference_docs.py fails while one is stale.
docs-reference: install
	$(BIN)/python scripts/gen_reference.py

docs: docs-reference
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache

model: install
	$(BIN)/python scripts/train_ner.py

bench: install
	$(BIN)/dropwire bench --json bench-out/bench.json

bench-quick: install
	$(BIN)/dropwire bench --quick --json bench-out/bench-quick.json --markdown bench-out/BENCHMARKS-quick.md

chaos: install
	$(BIN)/python -m pytest tests/chaos -m chaos -p no:randomly --chaos-files 2000

# docker-compose.yml really started with podman-compose (root, podman, debootstrap: see
# docs/how-to/deploy-compose.md), files dropped, container chaos, torn down. Images are cached by the
# hash of their inputs (/var/cache/dropwire-compose-test holds the wheelhouse).
compose-test: install
	$(BIN)/python scripts/compose_test.py
