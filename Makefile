# One command sets up everything the tests need on a fresh Debian machine and runs them:
#     make test
# It installs the real test servers (Debian packages victoria-metrics and
# influxdb) when missing, creates .venv, installs the package with its test
# extras, then runs ruff, mypy (strict on the codec and the client) and pytest.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: test servers lint typecheck pytest bench clean

test: servers lint typecheck pytest

servers:
	@if ! command -v influxd >/dev/null || ! command -v victoria-metrics >/dev/null; then \
		SUDO=$$(test "$$(id -u)" = 0 || echo sudo); \
		$$SUDO apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q victoria-metrics influxdb; \
	fi

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@

lint: $(BIN)/.installed
	$(BIN)/ruff check plugins tests bench
	$(BIN)/ruff format --check plugins tests bench

typecheck: $(BIN)/.installed
	$(BIN)/mypy --strict -p influxdb_write.line_protocol -p influxdb_write.client
	$(BIN)/mypy plugins/influxdb_write tests bench

pytest: servers $(BIN)/.installed
	$(BIN)/python -m pytest

bench: $(BIN)/.installed
	$(BIN)/python bench/encode.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
