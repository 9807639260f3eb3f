# Servio — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: run test lint fmt typecheck migrate demo bench bench-full soak wrk install install-dev browsers pdf-libs clean

$(BIN)/servio: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[pdf]'
	touch $(BIN)/servio

$(VENV)/.dev-installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,pdf]'
	touch $@

install: $(BIN)/servio

install-dev: $(VENV)/.dev-installed

## Serve API + web + worker on http://$(HOST):$(PORT) with a seeded demo outlet.
run: install pdf-libs
	$(BIN)/servio migrate
	$(BIN)/servio demo
	LOG_FORMAT=$${LOG_FORMAT:-text} $(BIN)/servio serve --host $(HOST) --port $(PORT)

## Lint, type-check and run the whole test suite (browser tests included when possible).
test: install-dev browsers pdf-libs
	$(BIN)/ruff check src tests migrations scripts bench
	$(BIN)/ruff format --check src tests migrations scripts bench
	$(BIN)/mypy
	$(BIN)/pytest -n 2 --dist loadgroup

lint: install-dev
	$(BIN)/ruff check src tests migrations scripts bench
	$(BIN)/ruff format --check src tests migrations scripts bench
	$(BIN)/mypy

fmt: install-dev
	$(BIN)/ruff check --fix src tests migrations scripts bench
	$(BIN)/ruff format src tests migrations scripts bench

migrate: install
	$(BIN)/servio migrate

demo: install
	$(BIN)/servio demo

## Benchmarks (docs/benchmarks.md "Harness"): quick run, then every scenario + large outlet.
bench: install-dev wrk
	$(BIN)/python -m bench run

bench-full: install-dev wrk
	$(BIN)/python -m bench run --full

## Reliability and security at full size (docs/reliability.md): the tests under tests/reliability
## and tests/security with the issue's repeat counts, then the figures they measured into the doc.
SOAK_FIGURES := .soak-figures.jsonl
soak: install-dev browsers pdf-libs
	rm -f $(SOAK_FIGURES)
	SERVIO_SOAK=1 SERVIO_FIGURES_FILE=$(CURDIR)/$(SOAK_FIGURES) $(BIN)/pytest tests/reliability tests/security -q; \
		status=$$?; $(BIN)/python scripts/reliability_report.py $(SOAK_FIGURES) docs/reliability.md; exit $$status

## wrk (Debian package) for the closed-loop figures; without it the harness falls back to
## its Python generator and says so in the results.
wrk:
	@if command -v wrk >/dev/null; then :; \
	elif command -v apt-get >/dev/null && { [ "$$(id -u)" = "0" ] || sudo -n true 2>/dev/null; }; then \
		SUDO=$$([ "$$(id -u)" = "0" ] || echo "sudo -n"); \
		($$SUDO apt-get install -y -qq wrk >/dev/null 2>&1 || \
		 ($$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null)) \
		|| echo "!!! could not install wrk: the harness falls back to its Python load generator"; \
	else echo "!!! wrk missing and cannot apt-get install it: the harness falls back to its Python load generator"; fi

## Chromium for the browser tests: Debian's package (Playwright cannot download browsers here).
browsers:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "!!! could not install chromium: browser tests will be SKIPPED"; \
	else echo "!!! /usr/bin/chromium missing and cannot apt-get install it: browser tests will be SKIPPED"; fi

## Pango, HarfBuzz and fonts for WeasyPrint's QR pack PDFs (Debian). Without them the QR pack
## is served as print-ready HTML instead (header `X-Servio-Render: html-fallback`).
PDF_LIBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1 fontconfig \
	fonts-dejavu-core shared-mime-info
pdf-libs:
	@if ldconfig -p | grep -q libpangoft2-1.0.so.0 && ldconfig -p | grep -q libharfbuzz-subset.so.0 \
		&& fc-list 2>/dev/null | grep -qi dejavu; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PDF_LIBS) >/dev/null) \
		|| echo "!!! could not install the PDF libraries: QR packs will be served as HTML"; \
	else echo "!!! Pango/HarfBuzz missing and cannot apt-get install them: QR packs will be served as HTML"; fi

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
