#!/usr/bin/env bash
# Builds Spare's Windows installer with NSIS (makensis, Debian's nsis):
#
#   packaging/windows/build-installer.sh APP.exe OUT.exe [DISTRO.tar]
#
# APP is spare.exe (`make windows`), DISTRO the WSL distribution's image.
# VERSION in the environment names the release (default 0.0.0). Sign the
# result with sign.sh.
set -euo pipefail
app=${1:?usage: build-installer.sh APP.exe OUT.exe [DISTRO.tar]}
out=${2:?usage: build-installer.sh APP.exe OUT.exe [DISTRO.tar]}
distro=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
args=(-V2 "-DVERSION=${VERSION:-0.0.0}" "-DAPP=$(realpath "$app")" "-DOUT=$(realpath -m "$out")")
[ -z "$distro" ] || args+=("-DDISTRO=$(realpath "$distro")")
makensis "${args[@]}" "$here/spare.nsi"
