# Everything a fresh machine needs: `make run` and `make test` create the virtual environment themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint unit integration e2e bench faults schemas clean browser

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/rapport dev --demo

test: $(STAMP) lint browser
	$(BIN)/pytest
	$(BIN)/pytest tests/browser  # a process of its own: see tests/browser/conftest.py

# The brief's browser tests drive Debian's chromium by path (never `playwright install`, which downloads one).
# Installed with apt-get where missing (CI runs as root on Debian); without it, those tests skip and say why.
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
	      || echo "could not install chromium: browser tests will skip"; \
	  else echo "chromium missing and not installable here (needs root and apt-get): browser tests will skip"; fi; }

lint: $(STAMP)
	$(BIN)/ruff check contracts services tests
	$(BIN)/ruff format --check contracts services tests
	$(BIN)/mypy contracts services  # the domain packages strictly: see [tool.mypy] in pyproject.toml

unit: $(STAMP)
	$(BIN)/pytest tests/unit

integration: $(STAMP)
	$(BIN)/pytest tests/integration

e2e: $(STAMP)
	$(BIN)/pytest tests/e2e

bench: $(STAMP)
	$(BIN)/rapport bench

# The real system under injected faults, several cycles of each; `make test` runs one cycle (tests/e2e/test_faults.py)
faults: $(STAMP)
	$(BIN)/python -m services.cli.faults

schemas: $(STAMP)
	$(BIN)/python -m contracts.export

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
