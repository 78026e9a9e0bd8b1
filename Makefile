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
# Card ingest tests: FAT/exFAT card images mounted with FUSE (kernels without vfat/exfat)
APT_PACKAGES += fusefat exfat-fuse dosfstools exfatprogs mtools

# bench/live_ingest.py builds RAW frames with a full-size preview (exiftool -JpgFromRaw<=)
APT_PACKAGES += libimage-exiftool-perl

# ip netns/veth for the SD image's boot test (the booted rootfs gets its own port 80).
APT_PACKAGES += iproute2

.PHONY: demo test lint bench system-deps install clean

demo: install $(NODE_STAMP)
	node functions/_tools/face-model.mjs  # the gallery's face model, from node_modules
	$(VENV)/bin/appliance demo

test: install $(NODE_STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest
	node --test functions/test/

lint: install
	$(PY) -m ruff check .

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

# pillow-heif requires a distribution named "pillow"; pillow-simd (x86_64) is the same PIL under
# another name, so there it is installed without its dependencies (a plain install would replace
# pillow-simd with stock Pillow) and checked to decode with it. The version is the one verified
# against pillow-simd 12.1 (tests/imaging/test_derive.py). On aarch64 pyproject.toml lists it.
PILLOW_HEIF := pillow-heif==1.9.0

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	if [ "$$(uname -m)" = x86_64 ]; then \
	  $(PY) -m pip install -q --no-deps '$(PILLOW_HEIF)' && \
	  $(PY) -c 'import io, pillow_heif; from PIL import Image; pillow_heif.register_heif_opener(); \
	    b = io.BytesIO(); Image.new("RGB", (16, 16), "red").save(b, "HEIF"); \
	    assert Image.open(b).convert("RGB").getpixel((8, 8))[0] > 200'; \
	fi
	touch $@

$(NODE_STAMP): functions/package.json functions/package-lock.json
	cd functions && npm ci --no-audit --no-fund
	touch $@

bench: install
	for script in bench/*.py; do $(PY) $$script --quick || exit 1; done

# The venue's SD image (pi-gen, Raspberry Pi OS Lite arm64): root or Docker, Internet, 30-60 min.
.PHONY: image image-test-arm64
image:
	./image-build/build-image.sh $(IMAGE_ARGS)  # as root; IMAGE_ARGS=--docker for Docker

# The image's boot test on an arm64 bookworm under qemu-user-static: too slow for `make test`
# (debootstrap under emulation on first use, systemd-python compiled, services emulated).
image-test-arm64: install
	@if [ "$$(id -u)" != 0 ]; then echo "image-test-arm64: run as root (systemd-nspawn)" >&2; exit 1; fi
	dpkg-query -W -f='$${Status}' qemu-user-static 2>/dev/null | grep -q "ok installed" || \
	  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q qemu-user-static binfmt-support)
	mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
	test -e /proc/sys/fs/binfmt_misc/qemu-aarch64 || update-binfmts --enable qemu-aarch64
	APPLIANCE_IMAGE_ARCH=arm64 $(PY) -m pytest tests/system/test_image_boot.py -s -v

clean:
	rm -rf $(VENV) functions/node_modules demo build dist
