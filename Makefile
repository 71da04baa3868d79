# planeco — two commands for a newcomer:
#   make run    set up what is missing, build the data bundle, serve the Voilà app gallery
#   make test   set up what is missing, build the data bundle, run the whole test suite
#   make hub    the same apps for many people behind JupyterHub (see README « Plusieurs personnes »)
# Both are idempotent: the second time they only check stamps and start.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8866
# Extra options of `planeco serve` for `make run` (e.g. SERVE_ARGS=--no-browser, or --public).
SERVE_ARGS ?=
HUB_PORT ?= 8000
# The offline mirror of official sources (used when present; see ../shared/data/README.md).
PLANECO_MIRROR ?= $(firstword $(wildcard ../shared/data))
export PLANECO_MIRROR
STAMP := $(VENV)/.planeco-installed
DATA_DIR ?= $(or $(PLANECO_DATA_DIR),data/build)
MANIFEST := $(DATA_DIR)/manifest.json

.PHONY: run test lint setup system-deps data bench lock clean help hub
.DEFAULT_GOAL := help

help:
	@echo "make run    — installe, construit les données, sert la galerie d'applications sur http://127.0.0.1:$(PORT)"
	@echo "make test   — installe, construit les données, lance toute la suite de tests"
	@echo "make lint   — vérifie le code (ruff, mypy) ; fait partie de make test"
	@echo "make bench  — lance les benchmarks (benchmarks/)"
	@echo "make hub    — JupyterHub sur http://127.0.0.1:$(HUB_PORT) : applications pour chaque personne connectée"

# JupyterLab settings that keep the promise of no calls home (see planeco_kernel/share/README.md).
SHARE := planeco_kernel/share
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json
LAB_CONFIG := $(VENV)/etc/jupyter/jupyter_lab_config.json
# configurable-http-proxy (JupyterHub's proxy, from npm) in a project-local folder: `make hub`
# and the hub tests find it there, nothing is installed globally.
HUB_NODE := .hub-node
CHP_VERSION := 5.3.0
CHP := $(HUB_NODE)/node_modules/.bin/configurable-http-proxy

setup: system-deps $(STAMP) $(LAB_OVERRIDES) $(LAB_CONFIG) $(CHP)

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
	$(PY) -m pip install -q --disable-pip-version-check -c requirements.lock -e '.[test,hub]'
	$(PY) -m pip uninstall -q -y rfc3987-syntax
	@touch $@

$(LAB_OVERRIDES): $(SHARE)/jupyter/lab/settings/overrides.json $(STAMP)
	install -D -m 0644 $< $@

$(LAB_CONFIG): $(SHARE)/etc/jupyter/jupyter_lab_config.json $(STAMP)
	install -D -m 0644 $< $@

$(CHP):
	npm install --silent --no-audit --no-fund --prefix $(HUB_NODE) configurable-http-proxy@$(CHP_VERSION)

data: setup
	$(PY) -m planeco_kernel data build --if-needed

run: data
	$(PY) -m planeco_kernel serve --port $(PORT) $(SERVE_ARGS)

# JupyterHub on this machine (PLANECO_KB: the shared knowledge base; HUB_ADMIN: your hub user name).
hub: data
	$(PY) -m planeco_kernel hub --port $(HUB_PORT) $(if $(HUB_ADMIN),--admin $(HUB_ADMIN))

test: data lint
	$(PY) -m pytest --durations=40

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
