#!/bin/bash -e
# pi-gen step: install the appliance into the image being built (${ROOTFS_DIR}).
# The work is done by image-build/install-appliance.sh and image-build/install-image.sh, which do
# not depend on pi-gen (the tests run them in a plain Debian rootfs); build-image.sh put the project
# bundle (units, image-build/, the appliance wheel in dist/) in files/appliance-src.
[ -d files/appliance-src ] || { echo "files/appliance-src missing: run image-build/build-image.sh" >&2; exit 1; }
bundle="${ROOTFS_DIR}/tmp/appliance-src"
rm -rf "${bundle}"
install -d "${bundle}"
cp -a files/appliance-src/. "${bundle}/"

on_chroot <<'CHROOT'
set -e
cd /tmp/appliance-src
set -- dist/appliance-*.whl
# The dependencies come from PyPI (aarch64 wheels; systemd-python is compiled here).
./image-build/install-appliance.sh --source /tmp/appliance-src --wheel "$1" --with-faces
./image-build/install-image.sh --source /tmp/appliance-src --boot-dir /boot/firmware
CHROOT

rm -rf "${bundle}"
