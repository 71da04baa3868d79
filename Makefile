# planeco — two commands for a newcomer:
#   make run    set up what is missing, build the data bundle, serve the Voilà app gallery
#   make test   set up what is missing, build the data bundle, run the whole test suite
# Both are idempotent: the second time they only check stamps and start.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8866
# The offline mirror of official sources (used when present; see ../shared/data/README.md).
PLANECO_MIRROR ?= $(firstword $(wildcard ../shared/data))
export PLANECO_MIRROR
STAMP := $(VENV)/.planeco-installed
DATA_DIR ?= $(or $(PLANECO_DATA_DIR),data/build)
MANIFEST := $(DATA_DIR)/manifest.json

.PHONY: run test lint setup system-deps data bench lock clean help
.DEFAULT_GOAL := help

help:
	@echo "make run    — installe, construit les données, sert la galerie d'applications sur http://127.0.0.1:$(PORT)"
	@echo "make test   — installe, construit les données, lance toute la suite de tests"
	@echo "make lint   — vérifie le code (ruff, mypy) ; fait partie de make test"
	@echo "make bench  — lance les benchmarks (benchmarks/)"

setup: system-deps $(STAMP)

# Debian packages the project needs: npm (data packages are fetched with `npm pack`) and
# chromium (browser tests). Installed with apt-get when run as root, else explained.
SYSTEM_PKGS := $(if $(shell command -v npm),,nodejs npm) $(if $(wildcard /usr/bin/chromium),,chromium)
system-deps:
ifneq ($(strip $(SYSTEM_PKGS)),)
	@if [ "$$(id -u)" = 0 ]; then \
	  echo "Installation des paquets Debian manquants : $(strip $(SYSTEM_PKGS))"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(strip $(SYSTEM_PKGS)); \
	else \
	  echo "Paquets système manquants : $(strip $(SYSTEM_PKGS)). Installez-les : sudo apt-get install $(strip $(SYSTEM_PKGS))"; exit 1; \
	fi
endif

# The virtual environment, installed from the pinned lock. rfc3987-syntax (pulled by
# jupyter-events' jsonschema[format-nongpl]) is removed: importing it builds a Lark grammar that
# adds ~2.3 s to every Jupyter process (see ../shared/STACK.md); only IRI-format checks are lost.
$(STAMP): pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -c requirements.lock -e '.[test]'
	$(PY) -m pip uninstall -q -y rfc3987-syntax
	@touch $@

data: setup
	$(PY) -m planeco_kernel data build --if-needed

run: data
	$(PY) -m planeco_kernel serve --port $(PORT)

test: data lint
	$(PY) -m pytest

# Linters (configured in pyproject.toml): ruff on the whole package, mypy on sources/, bundle/, indicators/.
lint: setup
	$(PY) -m ruff check
	$(PY) -m mypy

bench: data
	$(PY) -m benchmarks

# Refresh the lock after changing dependencies in pyproject.toml.
lock: $(STAMP)
	$(PY) -m pip freeze --exclude-editable | grep -v -i '^rfc3987-syntax' > requirements.lock

clean:
	rm -rf $(VENV) data/build tests/artifacts
