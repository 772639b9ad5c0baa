# One command sets up everything the tests need on a fresh Debian machine and runs them:
#     make test
# It installs the real test servers (Debian packages victoria-metrics and
# influxdb; redis-server and postgresql for the Celery tests) and the browser
# of the UI tests (chromium, chromium-driver) when
# missing, creates .venv, installs the package with its test
# extras, then runs ruff, mypy (strict on the codec and the client) and pytest,
# then the Airflow tests on the oldest supported Airflow, and the codec, client
# and template tests on every other supported Python.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

# The oldest Airflow this package supports. `make test` runs the Airflow tests on
# it too. Without Airflow's constraints file (not reachable here), pip picks
# releases of cadwyn, fastapi, pydantic and universal-pathlib too new for 3.0.6
# to run any DAG, so those are pinned to versions of its time. pandas too: 3.0's
# XCom serializer knows a DataFrame only as pandas.core.frame.DataFrame, and
# pandas 3 names the class pandas.DataFrame (Airflow 3.3 registers both). And
# cryptography: with 51.0.1, which the index began to offer during this work, 3.0.6 no
# longer finds the tests' AIRFLOW_CONN_* connections while parsing DAG files
# (every `dags test` of tests/test_operator.py failed; 50.0.2 passes).
OLDEST_AIRFLOW ?= 3.0.6
OLDEST_PINS := cadwyn==5.4.3 fastapi==0.116.1 pydantic==2.11.7 universal-pathlib==0.2.6 'pandas<3' \
	'cryptography<51'
OLDEST := .venv-airflow-$(OLDEST_AIRFLOW)

# The codec, client and template tests need no Airflow; they run on every
# supported Python besides the one of .venv, with the runtime dependencies other
# than Airflow (tests/test_packaging.py checks this list against pyproject.toml).
SUPPORTED_PYTHONS := 3.10 3.11 3.12 3.13
OTHER_PYTHONS ?= $(filter-out $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])'),$(SUPPORTED_PYTHONS))
CORE_REQUIREMENTS := requests>=2.28 jinja2>=3.1 urllib3>=1.26 pytest>=8 hypothesis>=6.100 numpy pandas>=2.1 polars>=1.0 pyarrow>=16
CORE_TESTS := tests/test_corpus.py tests/test_corpus_influxd.py tests/test_encoder.py tests/test_properties.py \
	tests/test_validate.py tests/test_retry.py tests/test_client_faults.py tests/test_client_servers.py \
	tests/test_templating.py tests/test_decoder.py tests/test_fast_paths.py tests/test_client_hostile.py \
	tests/test_frames.py tests/test_client_frames.py tests/test_client_inputs.py tests/test_exact_influxd.py \
	tests/test_points.py tests/test_collector.py tests/test_tally.py tests/test_client_resume.py tests/test_durable.py \
	tests/test_client_in_flight.py

.PHONY: test servers celery-servers browser lint typecheck docs docs-serve pytest pytest-oldest pytest-pythons bench demo clean

test: servers celery-servers browser lint typecheck docs pytest pytest-oldest pytest-pythons

servers:
	@if ! command -v influxd >/dev/null || ! command -v victoria-metrics >/dev/null \
		|| ! command -v stunnel4 >/dev/null || ! command -v tinyproxy >/dev/null; then \
		SUDO=$$(test "$$(id -u)" = 0 || echo sudo); \
		$$SUDO apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q victoria-metrics influxdb stunnel4 tinyproxy; \
	fi

# The Celery tests (tests/test_celery_backfill.py) run Redis, the broker, and
# PostgreSQL, the metadata database, from Debian's packages, on ports of their own.
celery-servers:
	@if ! command -v redis-server >/dev/null || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		SUDO=$$(test "$$(id -u)" = 0 || echo sudo); \
		$$SUDO apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q redis-server postgresql; \
	fi

# The UI tests (tests/test_ui.py) drive Debian's Chromium through its chromedriver
# with Selenium; no browser is downloaded.
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
		SUDO=$$(test "$$(id -u)" = 0 || echo sudo); \
		$$SUDO apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium chromium-driver; \
	fi

# An editable install leaves plugins/<dist>.egg-info, where Airflow (plugins/ is on
# its path) finds the package a second time: its airflow.plugins entry point then
# counts as a duplicate plugin, an import error in the UI, and Airflow 3.3's task
# runtime stops loading the plugins after it (OpenLineage's among them).
NO_EGG_INFO := rm -rf plugins/*.egg-info

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench,celery,docs]'
	$(NO_EGG_INFO)
	touch $@

lint: $(BIN)/.installed
	$(BIN)/ruff check plugins tests bench dags scripts
	$(BIN)/ruff format --check plugins tests bench dags scripts
	$(BIN)/ruff check --preview --select AIR dags plugins

typecheck: $(BIN)/.installed
	$(BIN)/mypy --strict -p influxdb_write.line_protocol -p influxdb_write.client
	$(BIN)/mypy plugins/influxdb_write tests bench scripts

# The docs site (docs/, mkdocs.yml) into site/. --strict: a broken link or anchor, a
# missing included file or an unresolved API reference fails the build.
docs: $(BIN)/.installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

docs-serve: $(BIN)/.installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

pytest: servers celery-servers browser $(BIN)/.installed
	$(BIN)/python -m pytest

$(OLDEST)/bin/.installed: pyproject.toml
	test -x $(OLDEST)/bin/python || $(PYTHON) -m venv $(OLDEST)
	$(OLDEST)/bin/python -m pip install --quiet --upgrade pip
	$(OLDEST)/bin/python -m pip install --quiet -e '.[test]' 'apache-airflow==$(OLDEST_AIRFLOW)' $(OLDEST_PINS)
	$(NO_EGG_INFO)
	touch $@

pytest-oldest: servers $(OLDEST)/bin/.installed
	$(OLDEST)/bin/python -m pytest tests/test_hook.py tests/test_operator.py tests/test_sample_dags.py tests/test_import_cost.py \
		tests/test_operator_interrupts.py tests/test_lineage.py tests/test_plugin.py tests/test_operator_input.py \
		tests/test_operator_frames.py tests/test_operator_places.py tests/test_resume.py

pytest-pythons: servers
	scripts/pytest-pythons.sh "$(OTHER_PYTHONS)" "$(CORE_REQUIREMENTS)" $(CORE_TESTS)

bench: $(BIN)/.installed
	$(BIN)/python bench/encode.py

# The no-Docker demo: installs what it needs, starts a real influxd, runs the
# hourly ETL DAG once with `airflow dags test`, prints what landed, stops influxd.
demo: servers $(BIN)/.installed
	$(BIN)/python scripts/demo.py

clean:
	rm -rf $(VENV) $(OLDEST) .venv-py3.* .pytest_cache .mypy_cache .ruff_cache .hypothesis site
