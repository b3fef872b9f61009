# Two commands do everything on a fresh Debian machine: `make run` and `make test`.
# Each installs what is missing (Debian packages as root or through sudo, a venv in .venv),
# then runs. Re-running is cheap: installs happen only when something is missing or changed.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# Qt offscreen (first six), ZBar for the pyzbar fallback, fonts with Vietnamese glyphs;
# pcscd + the vpcd virtual reader for the chip tests, and what pyscard needs to build.
APT_PACKAGES := libglib2.0-0 libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 \
	libzbar0 fonts-dejavu-core \
	pcscd libpcsclite1 libpcsclite-dev vsmartcard-vpcd gcc libc6-dev

.PHONY: run test bench deps apt lint demo clean screenshots pcscd

run: deps
	$(VENV)/bin/checkin demo

test: deps pcscd
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/python -m pytest -q
	$(VENV)/bin/ruff check checkin drivers ui tests benchmarks

bench: deps pcscd
	@for f in benchmarks/[!_]*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

lint: deps
	$(VENV)/bin/ruff check checkin drivers ui tests benchmarks

screenshots: deps
	QT_QPA_PLATFORM=offscreen $(PY) -m ui.screenshots

deps: apt $(STAMP)

# Install only the Debian packages that are missing; python3-venv only where venv is absent.
apt:
	@missing=""; \
	for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	python3 -c 'import venv, ensurepip' 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

# pcscd for the chip tests and benchmark (vpcd's virtual reader comes with it); starting it
# needs root, since pcscd 1.9 always binds /run/pcscd/pcscd.comm.
pcscd: apt
	@python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.connect("/run/pcscd/pcscd.comm")' 2>/dev/null \
	  || { echo "starting pcscd"; $(SUDO) install -d -m 0755 /run/pcscd && $(SUDO) pcscd; sleep 1; }

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
