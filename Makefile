# Two commands matter: `make demo` and `make test`. Both build .venv on first use.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python

.PHONY: demo test lint venv clean i18n i18n-extract i18n-update i18n-compile

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ needed"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

## The demo: ingest on SQLite + simulated printer fleet + an enrolled agent + the portal.
demo: venv
	$(PY) demo/run.py

## The whole test suite (set SCM_TEST_DATABASE_URL to run the ingest side on PostgreSQL), in
## TEST_WORKERS processes (pytest-xdist; a test file stays in one process; each process has a
## database of its own).  Much of the suite waits on real processes, so 2 halve it on 2 cores.
TEST_WORKERS ?= 2
test: venv
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## Translations (pybabel): extract the msgids, merge them into every catalog, compile the .mo.
## After `make i18n`, translate the new or fuzzy entries in ingest/translations/*/LC_MESSAGES/
## messages.po and run `make i18n-compile` (the tests fail on untranslated or stale catalogs).
I18N_DIR := ingest/translations
I18N_POT := $(I18N_DIR)/messages.pot
PYBABEL  := $(VENV)/bin/pybabel

i18n: i18n-extract i18n-update i18n-compile

i18n-extract: venv
	$(PYBABEL) extract -F babel.cfg -k _l -k N_ --no-location --sort-output \
		--project scm-fleet --copyright-holder "SCM srl" -o $(I18N_POT) ingest

i18n-update: venv
	$(PYBABEL) update -i $(I18N_POT) -d $(I18N_DIR) --ignore-obsolete

i18n-compile: venv
	$(PYBABEL) compile --statistics -d $(I18N_DIR)

clean:
	rm -rf $(VENV) .demo .pytest_cache .ruff_cache
