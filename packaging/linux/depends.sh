#!/usr/bin/env bash
# Works out the packages' run-time dependencies from the binary itself:
#
#   packaging/linux/depends.sh BINARY OUTDIR
#
# writes OUTDIR/deb-depends (Debian package relations, from
# dpkg-shlibdeps and the symbols files of the libraries the binary links,
# libc6 with its version) and OUTDIR/rpm-requires (the soname
# capabilities rpmbuild's elfdeps would list: libc.so.6(GLIBC_2.34)(64bit)
# and so on, which every RPM distribution's libraries provide), one a line.
#
# GLFW, the desktop toolkit's windowing library, opens the X extension
# libraries below with dlopen, so they are not in the binary's NEEDED
# list: Xcursor (cursors), XRandR (monitors and their scale), XInput2
# (pointer motion), Xinerama (monitor layout) and XF86VidMode (gamma);
# without them the window opens but draws at the wrong scale, with the
# wrong cursors. (It also tries libX11-xcb for Vulkan surfaces and
# libXrender for transparent windows; Spare uses neither.)
set -euo pipefail
bin=${1:?usage: depends.sh BINARY OUTDIR}
out=${2:?usage: depends.sh BINARY OUTDIR}
dlopened=(libXcursor.so.1 libXrandr.so.2 libXi.so.6 libXinerama.so.1 libXxf86vm.so.1)
# Always needed, whatever the binary links: the daemon runs jobs through
# containerd and runc, and the maintainer scripts use adduser (Debian;
# deb-systemd-helper is in init-system-helpers, which is Essential) or
# shadow-utils (RPM).
deb_fixed=(containerd runc adduser)
rpm_fixed=(containerd runc shadow-utils)

bin=$(realpath "$bin")
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Debian: dpkg-shlibdeps wants a source tree's debian/control.
mkdir -p "$work/debian"
printf 'Source: spare\n\nPackage: spare\nArchitecture: any\n' >"$work/debian/control"
shl=$(cd "$work" && dpkg-shlibdeps -O -e"$bin" 2>"$work/log") || { cat "$work/log" >&2; exit 1; }
shl=${shl#shlibs:Depends=}
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
deb_dl=()
for so in "${dlopened[@]}"; do
	lib=/usr/lib/$multiarch/$so
	pkg=$(dpkg-query -S "$lib" 2>/dev/null | head -1 | cut -d: -f1) ||
		{ echo "depends.sh: $so is not installed here (scripts/deps.sh installs it)" >&2; exit 1; }
	[ -n "$pkg" ] || { echo "depends.sh: no package owns $lib (scripts/deps.sh installs it)" >&2; exit 1; }
	deb_dl+=("$pkg")
done
{
	printf '%s\n' "${deb_fixed[@]}"
	tr ',' '\n' <<<"$shl" | sed 's/^ *//'
	printf '%s\n' "${deb_dl[@]}"
} | awk 'NF && !seen[$0]++' >"$out/deb-depends"

# RPM: soname(version)(64bit) for each NEEDED library and version.
case $(readelf -h "$bin" | awk '/Class:/ {print $2}') in
ELF64) bits="(64bit)" ;;
*) bits="" ;;
esac
{
	printf '%s\n' "${rpm_fixed[@]}"
	readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | while read -r so; do echo "$so()$bits"; done
	# .gnu.version_r: "File: libc.so.6" then "Name: GLIBC_2.34" lines.
	readelf -V -W "$bin" | awk -v bits="$bits" '
		/File: / { for (i = 1; i <= NF; i++) if ($i == "File:") file = $(i + 1) }
		/Name: / && file != "" { for (i = 1; i <= NF; i++) if ($i == "Name:") print file "(" $(i + 1) ")" bits }' |
		grep -v '(GLIBC_PRIVATE)' || true
	for so in "${dlopened[@]}"; do echo "$so()$bits"; done
} | awk 'NF && !seen[$0]++' >"$out/rpm-requires"
