# One command sets up everything the tests need on a fresh Debian machine and runs them:
#     make test
# It creates .venv, installs the package with its test extras, then runs ruff,
# mypy (strict on the codec) and pytest.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: test lint typecheck pytest bench clean

test: lint typecheck pytest

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@

lint: $(BIN)/.installed
	$(BIN)/ruff check plugins tests bench

typecheck: $(BIN)/.installed
	$(BIN)/mypy --strict -p influxdb_write.line_protocol
	$(BIN)/mypy plugins/influxdb_write tests bench

pytest: $(BIN)/.installed
	$(BIN)/python -m pytest

bench: $(BIN)/.installed
	$(BIN)/python bench/encode.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
