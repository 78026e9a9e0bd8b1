# Two commands for a newcomer: `make demo` and `make test`. Both install what is missing first.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := functions/node_modules/.installed
# Build headers for pillow-simd / systemd-python, the browser for UI tests, fonts for watermarks;
# systemd-nspawn, debootstrap and shellcheck for the systemd boot test and the install script.
APT_PACKAGES := pkg-config libjpeg-dev zlib1g-dev liblcms2-dev libwebp-dev \
	libfreetype-dev libsystemd-dev fonts-dejavu-core chromium \
	systemd-container debootstrap shellcheck

.PHONY: demo test lint bench system-deps install clean

demo: install
	$(VENV)/bin/appliance demo

test: install $(NODE_STAMP)
	$(PY) -m ruff check appliance tests bench
	$(PY) -m pytest
	node --test functions/test/

lint: install
	$(PY) -m ruff check appliance tests bench

install: system-deps $(STAMP)

system-deps:
	@missing=""; \
	for pkg in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null | grep -q "ok installed" || missing="$$missing $$pkg"; \
	done; \
	command -v node >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing system packages:$$missing"; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	      -o DPkg::Lock::Timeout=300 $$missing; \
	  else \
	    echo "missing system packages (install them as root):$$missing" >&2; exit 1; \
	  fi; \
	fi

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

$(NODE_STAMP): functions/package.json functions/package-lock.json
	cd functions && npm ci --no-audit --no-fund
	touch $@

bench: install
	for script in bench/*.py; do $(PY) $$script --quick || exit 1; done

clean:
	rm -rf $(VENV) functions/node_modules demo build dist
