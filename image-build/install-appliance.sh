#!/usr/bin/env bash
# Install the appliance into a Debian bookworm root file system (Raspberry Pi OS included).
# Run as root inside the target: on the Pi itself, in a chroot, in `systemd-nspawn -D ROOTFS`, or
# from pi-gen's on_chroot. Safe to run again (upgrades the package, keeps the config).
#
#   install-appliance.sh [--source DIR] [--wheelhouse DIR | --wheel FILE] [--config FILE] [--no-enable]
#                        [--with-faces]
#
#   --source DIR      project checkout holding systemd/ (default: the folder above this script)
#   --wheelhouse DIR  install offline from DIR: the appliance wheel and every dependency's wheel
#   --wheel FILE      install this appliance wheel, dependencies from PyPI (needs build tools for
#                     systemd-python, installed here)
#   --config FILE     install FILE as /etc/appliance/appliance.toml (default: keep the existing one,
#                     or write a commented template)
#   --no-enable       do not enable appliance.target (it starts at boot when enabled)
#   --with-faces      also install Node.js (apt nodejs, npm) and the face worker's npm packages
#                     (image-build/faces/package-lock.json, `npm ci`) into /opt/appliance/faces, for
#                     "Find my photos" (docs/faces.md); needs the network. Without it the faces
#                     service runs but indexes nothing and says why.
#
# What it sets up: the `appliance` system user (in group gpio), /opt/appliance/venv with the
# package, the units in /usr/local/lib/systemd/system, /etc/appliance (root:appliance, 0750),
# a polkit rule letting the appliance user power off (the button's long hold), a udev rule
# giving /dev/gpiochip* to group gpio (Raspberry Pi OS ships one; plain Debian does not), and the
# USB tether's udev rule (a camera plugged in starts appliance-tether.service).
set -euo pipefail

PREFIX=/opt/appliance
VENV=$PREFIX/venv
UNIT_DIR=/usr/local/lib/systemd/system
CONFIG_DIR=/etc/appliance
SERVICE_USER=appliance

source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
wheelhouse=""
wheel=""
config=""
enable=1
faces=0

die() { echo "install-appliance: $*" >&2; exit 1; }
say() { echo "install-appliance: $*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --source) source_dir="$2"; shift 2 ;;
    --wheelhouse) wheelhouse="$2"; shift 2 ;;
    --wheel) wheel="$2"; shift 2 ;;
    --config) config="$2"; shift 2 ;;
    --no-enable) enable=0; shift ;;
    --with-faces) faces=1; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

[ "$(id -u)" = 0 ] || die "run as root"
[ -n "$wheelhouse" ] || [ -n "$wheel" ] || die "give --wheelhouse DIR or --wheel FILE"
[ -z "$wheelhouse" ] || [ -d "$wheelhouse" ] || die "no wheelhouse at $wheelhouse"
[ -z "$wheel" ] || [ -f "$wheel" ] || die "no wheel at $wheel"
[ -d "$source_dir/systemd" ] || die "no systemd/ under $source_dir (give --source)"
[ -z "$config" ] || [ -f "$config" ] || die "no config file at $config"
[ "$faces" = 0 ] || [ -f "$source_dir/image-build/faces/package-lock.json" ] \
  || die "no image-build/faces/package-lock.json under $source_dir"

# -- system packages (only what is missing: an offline rootfs that has them needs no network) ---
packages=(python3 python3-venv ca-certificates dbus polkitd)
if [ -z "$wheelhouse" ]; then
  packages+=(python3-dev gcc pkg-config libsystemd-dev)  # systemd-python builds from source
fi
if [ "$(dpkg --print-architecture)" = amd64 ]; then
  # pillow-simd (x86 only) is built from source and links the system's image libraries; the
  # Pi's stock Pillow wheels carry their own.
  packages+=(libjpeg62-turbo libtiff6 libwebp7 libwebpmux3 libwebpdemux2 liblcms2-2 libfreetype6 libxcb1)
fi
if [ "$faces" = 1 ]; then
  packages+=(nodejs npm)  # the face worker (face-api on TensorFlow.js WASM: no native code)
fi
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# -- the service user ------------------------------------------------------------------------
getent group gpio >/dev/null || groupadd --system gpio
if ! getent passwd "$SERVICE_USER" >/dev/null; then
  useradd --system --user-group --home-dir /var/lib/appliance --no-create-home \
    --shell /usr/sbin/nologin --comment "Event gallery appliance" "$SERVICE_USER"
fi
usermod -a -G gpio "$SERVICE_USER"

# -- the package -----------------------------------------------------------------------------
install -d -m 0755 "$PREFIX"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
if [ -n "$wheelhouse" ]; then
  "$VENV/bin/pip" install -q --no-index --find-links "$wheelhouse" --upgrade appliance
else
  "$VENV/bin/pip" install -q --upgrade "$wheel"
fi
"$VENV/bin/appliance" --help >/dev/null || die "the appliance command does not run"

# -- the face worker's npm packages (exactly the lockfile's, no install scripts) -------------------
if [ "$faces" = 1 ]; then
  install -d -m 0755 "$PREFIX/faces"
  install -m 0644 "$source_dir/image-build/faces/package.json" "$source_dir/image-build/faces/package-lock.json" \
    "$PREFIX/faces/"
  (cd "$PREFIX/faces" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
  find "$PREFIX/faces/node_modules" -name '*.map' -type f -delete  # source maps: ~200 of ~330 MB
  [ -f "$PREFIX/faces/node_modules/@vladmandic/face-api/model/face_recognition_model.bin" ] \
    || die "npm ci did not install face-api's models"
fi

# -- units -----------------------------------------------------------------------------------
install -d -m 0755 "$UNIT_DIR"
for unit in "$source_dir"/systemd/appliance*.service "$source_dir"/systemd/appliance.target; do
  install -m 0644 "$unit" "$UNIT_DIR/"
done

# -- configuration: readable by the services, not by everyone (it may hold secrets) ------------
install -d -m 0750 -o root -g "$SERVICE_USER" "$CONFIG_DIR"
if [ -n "$config" ]; then
  install -m 0640 -o root -g "$SERVICE_USER" "$config" "$CONFIG_DIR/appliance.toml"
elif [ ! -e "$CONFIG_DIR/appliance.toml" ]; then
  cat > "$CONFIG_DIR/appliance.toml" <<'EOF'
# The appliance's configuration: every key is optional (see docs/configuration.md).
# After editing: `appliance doctor`, then `systemctl restart appliance.target`.

[bucket]
# endpoint_url = "https://<account-id>.r2.cloudflarestorage.com"
# bucket = "my-gallery"
# secrets_file = "/etc/appliance/bucket-secrets.toml"  # key_id and secret; owner appliance, mode 0600

[admin]
# password = "choose one"

[event]
# slug = "my-event"
# title = "Live gallery"
EOF
  chown root:"$SERVICE_USER" "$CONFIG_DIR/appliance.toml"
  chmod 0640 "$CONFIG_DIR/appliance.toml"
fi

# -- the button's long hold powers off through logind: allow it for the service user only ------
install -d -m 0755 /etc/polkit-1/rules.d
cat > /etc/polkit-1/rules.d/50-appliance-poweroff.rules <<'EOF'
// Written by install-appliance.sh: the appliance's button may power the box off.
polkit.addRule(function(action, subject) {
    if (subject.user == "appliance" &&
        (action.id == "org.freedesktop.login1.power-off" ||
         action.id == "org.freedesktop.login1.power-off-multiple-sessions" ||
         action.id == "org.freedesktop.login1.power-off-ignore-inhibit")) {
        return polkit.Result.YES;
    }
});
EOF
chmod 0644 /etc/polkit-1/rules.d/50-appliance-poweroff.rules

# -- GPIO character devices for group gpio (Raspberry Pi OS has its own rule; harmless twice) ---
install -d -m 0755 /etc/udev/rules.d
cat > /etc/udev/rules.d/60-appliance-gpio.rules <<'EOF'
# Written by install-appliance.sh: the appliance's gpio service opens /dev/gpiochip* as group gpio.
SUBSYSTEM=="gpio", KERNEL=="gpiochip*", GROUP="gpio", MODE="0660"
EOF

# -- USB tether: a camera plugged in starts appliance-tether.service, its device for group appliance --
install -m 0644 "$source_dir/systemd/70-appliance-tether.rules" /etc/udev/rules.d/

if [ "$enable" = 1 ]; then
  systemctl enable appliance.target
fi
say "installed $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("appliance"))')" \
  "into $VENV; units in $UNIT_DIR; config $CONFIG_DIR/appliance.toml"
