# secureserver: `make run` to serve, `make test` to test. Everything else is set up on demand.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTANCE_DIR := $(or $(SECURESERVER_INSTANCE_PATH),instance)
CERT_DIR := certs
APT_GET := DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Use-Pty=0

.PHONY: run dev test bench lint keys install help

help:
	@echo "make run    set up (virtualenv, install, key, certificate) and serve https://127.0.0.1:8443"
	@echo "make test   install test dependencies (pip and Debian packages) and run the test suite"
	@echo "make bench  measure encryption and HTTPS transfer throughput"
	@echo "make dev    Flask's development server with the same certificate"
	@echo "make lint   ruff and mypy"

# --- setup -----------------------------------------------------------------------------

$(BIN)/python:
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || $(call apt_install,python3-venv)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg setup.py
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

$(INSTANCE_DIR)/identity.txt: | $(VENV)/.installed
	$(BIN)/flask --app secureserver keygen

$(CERT_DIR)/cert.pem: | $(VENV)/.installed
	$(BIN)/flask --app secureserver gen-cert

keys: $(INSTANCE_DIR)/identity.txt $(CERT_DIR)/cert.pem

# Debian packages the test suite drives for real (the age CLI for interoperability).
system-test-deps:
	@command -v age >/dev/null && command -v age-keygen >/dev/null || $(call apt_install,age)

define apt_install
	{ [ "$$(id -u)" = 0 ] || { echo "please install the Debian package(s) $(1) (needs root)"; exit 1; }; \
	  echo "installing Debian package(s): $(1)"; \
	  apt-get update -q >/dev/null && $(APT_GET) install $(1) >/dev/null; }
endef

# --- the two commands ------------------------------------------------------------------

run: install keys
	exec $(BIN)/gunicorn -c gunicorn.conf.py

test: $(VENV)/.installed-dev system-test-deps
	$(BIN)/python -m pytest

# --- the rest --------------------------------------------------------------------------

dev: install keys
	$(BIN)/flask --app wsgi run --host 127.0.0.1 --port 8443 \
		--cert $(CERT_DIR)/cert.pem --key $(CERT_DIR)/key.pem

bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check secureserver tests bench
	$(BIN)/ruff format --check secureserver tests bench
	$(BIN)/mypy secureserver
