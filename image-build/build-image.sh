#!/usr/bin/env bash
# Build the venue SD image with pi-gen: Raspberry Pi OS Lite (bookworm, arm64) + the appliance.
# Needs a Debian or Ubuntu host with Internet access, root (or Docker with --docker), about 25 GB
# of disk and 30-60 minutes. The image lands in image-build/.pi-gen/deploy/.
#
#   image-build/build-image.sh [--docker] [--pi-gen DIR] [--ref REF] [--name NAME]
#
#   --docker      build in pi-gen's Docker container (any Linux host with Docker)
#   --pi-gen DIR  pi-gen checkout to use or create (default image-build/.pi-gen)
#   --ref REF     pi-gen branch or tag (default arm64; pin a release tag such as
#                 2024-11-19-raspios-bookworm-arm64 for a reproducible build)
#   --name NAME   image name (default event-gallery)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
project="$(cd "$here/.." && pwd)"
pigen_dir="$here/.pi-gen"
pigen_ref=arm64
img_name=event-gallery
use_docker=0

die() { echo "build-image: $*" >&2; exit 1; }
say() { echo "build-image: $*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --docker) use_docker=1; shift ;;
    --pi-gen) pigen_dir="$2"; shift 2 ;;
    --ref) pigen_ref="$2"; shift 2 ;;
    --name) img_name="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
[ "$use_docker" = 1 ] || [ "$(id -u)" = 0 ] || die "run as root (pi-gen needs it), or use --docker"
command -v git >/dev/null || die "git is missing"

# -- pi-gen ----------------------------------------------------------------------------------
if [ ! -d "$pigen_dir/.git" ]; then
  say "cloning pi-gen ($pigen_ref) into $pigen_dir"
  git clone --depth 1 --branch "$pigen_ref" https://github.com/RPi-Distro/pi-gen.git "$pigen_dir"
else
  say "using pi-gen in $pigen_dir ($(git -C "$pigen_dir" describe --always --tags))"
fi

# -- the stage and its bundle: units, install scripts and files, the appliance wheel -----------
stage="$pigen_dir/stage-appliance"
rm -rf "$stage"
cp -a "$here/stage-appliance" "$stage"
bundle="$stage/00-install/files/appliance-src"
mkdir -p "$bundle/image-build" "$bundle/dist"
cp -a "$project/systemd" "$bundle/"
cp -a "$here/install-appliance.sh" "$here/install-image.sh" "$here/files" "$here/faces" "$bundle/image-build/"
say "building the appliance wheel"
python3 -m pip wheel --quiet --no-deps --wheel-dir "$bundle/dist" "$project"

# Only our stage makes an image (stage2 is Raspberry Pi OS Lite, its base); no desktop stages.
touch "$pigen_dir/stage2/SKIP_IMAGES" "$pigen_dir/stage2/SKIP_NOOBS"
for skipped in stage3 stage4 stage5; do
  [ ! -d "$pigen_dir/$skipped" ] || touch "$pigen_dir/$skipped/SKIP" "$pigen_dir/$skipped/SKIP_IMAGES"
done

# -- config: no SSH, a console-only user with a random password (printed below, kept in deploy/) -
login_file="$pigen_dir/deploy/$img_name-console-login.txt"
mkdir -p "$pigen_dir/deploy"
if [ -s "$login_file" ]; then
  first_pass="$(sed -n 's/^password: //p' "$login_file")"
else
  first_pass="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
  (umask 077 && printf 'user: operator\npassword: %s\n' "$first_pass" > "$login_file")
fi
cat > "$pigen_dir/config" <<CONFIG
IMG_NAME='$img_name'
RELEASE=bookworm
ARCH=arm64
DEPLOY_COMPRESSION=xz
TARGET_HOSTNAME=gallery
LOCALE_DEFAULT=en_GB.UTF-8
TIMEZONE_DEFAULT=Etc/UTC
FIRST_USER_NAME=operator
FIRST_USER_PASS='$first_pass'
DISABLE_FIRST_BOOT_USER_RENAME=1
ENABLE_SSH=0
STAGE_LIST="stage0 stage1 stage2 stage-appliance"
CONFIG

# -- build -----------------------------------------------------------------------------------
cd "$pigen_dir"
if [ "$use_docker" = 1 ]; then
  ./build-docker.sh
else
  ./build.sh
fi
say "done: $(find "$pigen_dir/deploy" -maxdepth 1 -name "*$img_name*.img*" -newer config | head -n 1)"
say "console login (SSH is off): see $login_file"
