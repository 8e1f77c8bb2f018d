# Two commands for a fresh machine:
#   make book   -> virtualenv, install, build the book into _build/html
#   make test   -> virtualenv, install, lint, unit tests, build the book, browser tests
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The MNIST files sit beside the project on development and CI machines; elsewhere the
# loader downloads them into ~/.cache/cnnlib/mnist.
SHARED_MNIST := $(wildcard ../shared/data/mnist)
ifneq ($(SHARED_MNIST),)
export CNNLIB_DATA ?= $(abspath $(SHARED_MNIST))
endif

# cnnlib's matrix products are small, so OpenBLAS gains little from a second thread, and its
# threads spin while they wait: on a busy 2-core machine, two threads train 10-20x slower than
# one. Builds and tests use one (override: make book OPENBLAS_NUM_THREADS=2).
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: install book test unit lint clean bench widget-assets chromium browser notebook-times

$(BIN)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

install: $(BIN)/.installed

lint: install
	$(BIN)/ruff check .

unit: install
	$(BIN)/pytest -m "not browser"

bench: install
	env -u OPENBLAS_NUM_THREADS $(BIN)/python benchmarks/train_throughput.py
	$(BIN)/python benchmarks/peak_memory.py

clean:
	rm -rf _build

# --- The book -----------------------------------------------------------------------------
# `make book` executes every notebook (cached in _build/.jupyter_cache: a second build reuses
# the outputs of unchanged notebooks) and fails on any Sphinx warning; --keep-going lists them
# all first. TOC=path/to/other_toc.yml builds another table of contents.
TOC ?= _toc.yml
WIDGET_ASSETS := _build/widget-assets/static/web-assets.json

# Pinned @jupyter-widgets/html-manager, require.js and MathJax from npm, and the front-end of the
# installed anywidget, served by the book itself (run with the virtualenv's Python: the
# anywidget version comes from there).
$(WIDGET_ASSETS): scripts/fetch_widget_assets.py $(BIN)/.installed
	$(BIN)/python scripts/fetch_widget_assets.py

widget-assets: $(WIDGET_ASSETS)

# The notebooks are executed first, in parallel (one per core, longest first), into the same
# cache; the build then only renders. JOBS=1 executes them one at a time.
JOBS ?= $(shell nproc 2>/dev/null || echo 1)

book: install widget-assets
	$(BIN)/python scripts/execute_notebooks.py --toc $(TOC) --jobs $(JOBS)
	$(BIN)/jupyter-book build . --toc $(TOC) --warningiserror --keep-going

# Seconds each notebook took in its last execution, from the jupyter-cache database.
notebook-times: install
	$(BIN)/python scripts/notebook_times.py --toc $(TOC)

# Debian's Chromium for the browser tests (apt, never a Playwright download).
chromium:
	bash scripts/install_chromium.sh

browser: install chromium
	BOOK_TOC=$(abspath $(TOC)) $(BIN)/pytest -m browser

# Everything CI runs: static checks, unit tests, the book (executing every notebook once),
# checks on the built book, then the browser tests against _build/html and a live JupyterLab.
test: install lint book chromium
	BOOK_TOC=$(abspath $(TOC)) $(BIN)/pytest -m "not browser"
	BOOK_TOC=$(abspath $(TOC)) $(BIN)/pytest -m browser
