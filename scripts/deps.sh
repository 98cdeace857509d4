#!/usr/bin/env bash
# Installs the system packages Spare needs to build, run and test, on
# Debian/Ubuntu. Usage: scripts/deps.sh [run|test]. Idempotent and quiet
# when everything is already there.
set -euo pipefail
what=${1:-run}

run_pkgs=(containerd runc gcc pkg-config libgl1-mesa-dev libxcursor-dev libxrandr-dev
  libxinerama-dev libxi-dev libxxf86vm-dev mmdebstrap debian-archive-keyring ca-certificates
  dpkg-dev binutils)
test_pkgs=(xvfb libgl1-mesa-dri fonts-dejavu-core xdotool dbus dbus-x11 iproute2 iptables desktop-file-utils rpm osslsigncode systemd util-linux
  lintian rpmlint appstream)
# The Windows app: cross compiler, Wine to run it, NSIS for its installer.
test_pkgs+=(gcc-mingw-w64-x86-64 wine64 nsis)
# promtool, which checks the daemon's /metrics: Debian ships it only in the
# prometheus server package (19 MB download, 96 MB installed).
test_pkgs+=(prometheus)
pkgs=("${run_pkgs[@]}")
[ "$what" = test ] && pkgs+=("${test_pkgs[@]}")

if ! command -v go >/dev/null 2>&1; then
  echo "Go 1.26 or newer is required: https://go.dev/doc/install (or apt-get install golang-go on a recent release)" >&2
  exit 1
fi
if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "This set-up script knows Debian and Ubuntu. Elsewhere install by hand: ${pkgs[*]}" >&2
  exit 1
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm is needed only to build the OCR workload; take Debian's if none is there.
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -eq 0 ]; then
  # The tests' Ethereum node: geth built from the module go.mod requires
  # (cached; scripts/with-services.sh starts it).
  [ "$what" = test ] && "$(dirname "$0")/geth.sh" >/dev/null && "$(dirname "$0")/ethers.sh" >/dev/null && "$(dirname "$0")/anvil.sh" >/dev/null
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "Run as root or install sudo; missing packages: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "Installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
# The tests want promtool, not a Prometheus server scraping this machine:
# leave the one the package enables stopped, unless it was here before.
if [[ " ${missing[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null 2>&1; then
  $sudo systemctl disable --now prometheus.service >/dev/null 2>&1 || true
fi
# The tests' Ethereum node (geth) and the EIP-712 implementation they
# check exported records with (ethers from npm, pinned), and anvil (npm,
# pinned), the node whose clock a test moves past the grace period.
[ "$what" = test ] && "$(dirname "$0")/geth.sh" >/dev/null && "$(dirname "$0")/ethers.sh" >/dev/null && "$(dirname "$0")/anvil.sh" >/dev/null
exit 0
