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
	@echo "make install-systemd  (as root) install as a hardened systemd service, see deploy/README.md"

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

# Debian packages the test suite drives for real: the age CLI for interoperability,
# Chromium for the browser tests (Playwright drives /usr/bin/chromium; its bundled node
# needs libatomic1, which a minimal Debian lacks), systemd-analyze to
# check the unit, testssl.sh to scan the TLS policy, nginx for the reverse-proxy test.
system-test-deps:
	@missing=""; \
	command -v age >/dev/null && command -v age-keygen >/dev/null || missing="$$missing age"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	dpkg -s libatomic1 >/dev/null 2>&1 || missing="$$missing libatomic1"; \
	command -v systemd-analyze >/dev/null || missing="$$missing systemd"; \
	command -v testssl >/dev/null || missing="$$missing testssl.sh"; \
	[ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	[ -z "$$missing" ] || $(call apt_install,$$missing)

# Installs Debian packages; a policy-rc.d keeps their daemons (nginx) from being started:
# the tests start their own, on loopback, and stop them.
define apt_install
	{ [ "$$(id -u)" = 0 ] || { echo "please install the Debian package(s) $(1) (needs root)"; exit 1; }; \
	  echo "installing Debian package(s): $(1)"; \
	  policy=/usr/sbin/policy-rc.d; made=; \
	  [ -e $$policy ] || { printf '#!/bin/sh\nexit 101\n' > $$policy && chmod 755 $$policy && made=1; }; \
	  apt-get update -q >/dev/null && $(APT_GET) install $(1) >/dev/null; status=$$?; \
	  [ -z "$$made" ] || rm -f $$policy; [ $$status = 0 ]; }
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

# `make bench`: secureserver next to copyparty, uploadserver and nginx, 5 rounds (about 8
# minutes), results in bench/results/ (docs/BENCHMARKS.md). BENCH_ARGS adds options, e.g.
# BENCH_ARGS="--runs 3 --variant w1:WEB_CONCURRENCY=1"; `make bench-quick` takes a minute.
# The PyPI peers and matplotlib go into throwaway virtualenvs under bench/results/venvs/.
bench: $(VENV)/.installed-dev bench-deps
	$(BIN)/python -m bench $(BENCH_ARGS)

.PHONY: bench-quick bench-deps
bench-quick: $(VENV)/.installed-dev bench-deps
	$(BIN)/python -m bench --quick $(BENCH_ARGS)

# Debian packages the benchmark drives: curl (the client), openssl (its speed test), nginx.
bench-deps:
	@command -v curl >/dev/null && command -v openssl >/dev/null && \
	  { command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; } || $(call apt_install,curl openssl nginx)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check secureserver tests bench
	$(BIN)/ruff format --check secureserver tests bench
	$(BIN)/mypy secureserver

# --- systemd (deploy/README.md) --------------------------------------------------------
# `make install-systemd`, as root: the service user, the code and its own virtualenv under
# PREFIX, the identity and TLS certificate under CONF_DIR (made once, never replaced), and
# the unit with those folders filled in. Run it again after `git pull` to update the code.
# Set on the command line (make install-systemd PREFIX=/srv/secureserver), never taken from
# the environment, where PREFIX often means something else.
PREFIX := /opt/secureserver
CONF_DIR := /etc/secureserver
UNIT_DIR := /etc/systemd/system
CERT_HOSTS :=
# The distribution's interpreter: ProtectHome= hides one installed under /root or /home.
SERVICE_PYTHON := /usr/bin/python3
SERVICE_USER := secureserver
SERVICE_FILES := setup.py setup.cfg README.md wsgi.py gunicorn.conf.py secureserver templates deploy
# The installed CLI (run from PREFIX, or flask would import this checkout's package), with a
# throwaway instance folder so that it makes only the file asked for.
service_flask = tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && cd $(PREFIX) && \
	SECURESERVER_INSTANCE_PATH=$$tmp SECURESERVER_IDENTITY_FILE=$(CONF_DIR)/identity.txt \
	$(PREFIX)/.venv/bin/flask --app secureserver

.PHONY: install-systemd
install-systemd:
	@[ "$$(id -u)" = 0 ] || { echo "make install-systemd must run as root (it creates a user, $(PREFIX) and $(CONF_DIR))"; exit 1; }
	@case "$(PREFIX)" in /?*) ;; *) echo "PREFIX must be an absolute path other than /"; exit 1;; esac
	@case "$(CONF_DIR)" in /?*) ;; *) echo "CONF_DIR must be an absolute path other than /"; exit 1;; esac
	@[ "$(abspath $(PREFIX))" != "$(CURDIR)" ] || { echo "PREFIX must not be this checkout: the code is copied there"; exit 1; }
	@$(SERVICE_PYTHON) -c 'import ensurepip, venv' 2>/dev/null || $(call apt_install,python3 python3-venv)
	id -u $(SERVICE_USER) >/dev/null 2>&1 || useradd --system --user-group --no-create-home \
		--home-dir /nonexistent --shell /usr/sbin/nologin $(SERVICE_USER)
# The code is root's and read-only for the service: a compromised server cannot change it.
	install -d -o root -g root -m 0755 $(PREFIX)
	rm -rf $(PREFIX)/secureserver $(PREFIX)/templates $(PREFIX)/deploy
	tar -C $(CURDIR) --exclude=__pycache__ -cf - $(SERVICE_FILES) | tar -C $(PREFIX) --no-same-owner -xf -
	[ "$$(readlink -f $(PREFIX)/.venv/bin/python)" = "$$(readlink -f $(SERVICE_PYTHON))" ] || \
		{ rm -rf $(PREFIX)/.venv && $(SERVICE_PYTHON) -m venv $(PREFIX)/.venv; }
	$(PREFIX)/.venv/bin/pip install --quiet --disable-pip-version-check -e $(PREFIX)
	chmod -R u+rwX,go+rX,go-w $(PREFIX)
# The secrets are root's alone; systemd hands the service its own copies (LoadCredential=).
	install -d -o root -g root -m 0700 $(CONF_DIR)
	[ -e $(CONF_DIR)/identity.txt ] || { $(service_flask) keygen; }
	[ -e $(CONF_DIR)/cert.pem ] || { $(service_flask) gen-cert --out-dir $(CONF_DIR) $(addprefix --host ,$(CERT_HOSTS)); }
	chmod 0600 $(CONF_DIR)/identity.txt $(CONF_DIR)/key.pem
	install -d -m 0755 $(UNIT_DIR)
	sed -e 's#/opt/secureserver#$(PREFIX)#g' -e 's#/etc/secureserver#$(CONF_DIR)#g' \
		deploy/secureserver.service > $(UNIT_DIR)/secureserver.service.new
	chmod 0644 $(UNIT_DIR)/secureserver.service.new
	mv $(UNIT_DIR)/secureserver.service.new $(UNIT_DIR)/secureserver.service
	! command -v systemd-analyze >/dev/null || systemd-analyze verify --man=no $(UNIT_DIR)/secureserver.service
	@if [ -d /run/systemd/system ]; then systemctl daemon-reload; \
	 else echo "systemd is not running on this machine: skipped systemctl daemon-reload"; fi
	@echo
	@echo "installed $(UNIT_DIR)/secureserver.service. Next steps:"
	@echo "  systemctl enable --now secureserver     # first time (or: systemctl restart secureserver after an update)"
	@echo "  back up $(CONF_DIR)/identity.txt offline: without it no stored file can be decrypted"
	@echo "  clients trust the server with $(CONF_DIR)/ca.pem (curl --cacert ca.pem https://127.0.0.1:8443/healthz)"
	@echo "  systemd-analyze security secureserver  # exposure level about 1.1 (OK)"
	@echo "  settings (BIND, port 443, workers): systemctl edit secureserver, see $(PREFIX)/deploy/README.md"
