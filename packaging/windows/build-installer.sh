#!/usr/bin/env bash
# Builds Spare's Windows installer with NSIS (makensis, Debian's nsis):
#
#   packaging/windows/build-installer.sh APP.exe OUT.exe [DISTRO.tar[.gz]]
#
# APP is spare.exe (`make windows`), DISTRO the WSL distribution's image
# (`make wsl-image`; a .tar.gz is unpacked first: the installer's LZMA
# compresses the plain tar better than gzip did, and the app imports
# distro\spare-wsl.tar). VERSION in the environment names the release
# (default 0.0.0). The installer shows LICENSE on a licence page and
# installs it with the notices of the libraries in spare.exe (NOTICES,
# default cmd/spare/licenses/NOTICES.gz, which `make build` writes).
# Sign the result with sign.sh.
set -euo pipefail
app=${1:?usage: build-installer.sh APP.exe OUT.exe [DISTRO.tar[.gz]]}
out=${2:?usage: build-installer.sh APP.exe OUT.exe [DISTRO.tar[.gz]]}
distro=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
notices=${NOTICES:-$root/cmd/spare/licenses/NOTICES.gz}
[ -f "$notices" ] || { echo "build-installer.sh: no notices at $notices; run 'make build' first (it writes them)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Windows text: CRLF line ends, for the licence page and Notepad.
sed 's/\r*$/\r/' "$root/LICENSE" >"$work/LICENSE.txt"
case $notices in *.gz) gzip -dc "$notices" ;; *) cat "$notices" ;; esac | sed 's/\r*$/\r/' >"$work/NOTICES.txt"
args=(-V2 "-DVERSION=${VERSION:-0.0.0}" "-DAPP=$(realpath "$app")" "-DOUT=$(realpath -m "$out")"
	"-DLICENSE=$work/LICENSE.txt" "-DNOTICES=$work/NOTICES.txt")
if [ -n "$distro" ]; then
	case $distro in
	*.gz)
		gzip -dc "$distro" >"$work/spare-wsl.tar"
		distro=$work/spare-wsl.tar
		;;
	esac
	args+=("-DDISTRO=$(realpath "$distro")")
fi
makensis "${args[@]}" "$here/spare.nsi"
