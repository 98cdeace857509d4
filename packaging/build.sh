#!/usr/bin/env bash
# Builds Spare's .deb and .rpm with nfpm (pinned below) from an already
# built Linux binary. Usage:
#
#   packaging/build.sh [OUTDIR]          (default: bin, beside the binary)
#
# Environment:
#   SPARE_BIN      the binary to ship (default bin/spare; `make build` makes it)
#   SPARE_VERSION  package version (default: from `git describe`, made
#                  valid for both dpkg and rpm: 1.2.3, 1.2.3+4.gabcdef,
#                  0.0.0+git.abcdef for an untagged tree)
#   SPARE_ARCH     Go architecture of the binary (default: go env GOARCH)
#   SPARE_FORMATS  which packages to build (default "deb rpm")
#
# It prints the path of each package it wrote, one per line.
set -euo pipefail
NFPM=github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.0 # v2.46+ needs go.digitalxero.dev, which the Go proxy does not serve

# Reproducible: the same commit gives byte-identical packages whoever
# builds them, where and when (packaging/README.md, TestReproducible). So
# no locale's sort order, time zone or umask reaches them.
export LC_ALL=C TZ=UTC
umask 022

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=${1:-$root/bin}
mkdir -p "$out"
out=$(cd "$out" && pwd)
bin=${SPARE_BIN:-$root/bin/spare}
[[ $bin = /* ]] || bin=$root/$bin
[ -x "$bin" ] || { echo "build.sh: no executable at $bin; run 'make build' first" >&2; exit 1; }

version_from_git() {
	local d
	d=$(git -C "$root" describe --tags --always --dirty 2>/dev/null || echo dev)
	d=${d#v}
	if [[ $d =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]]; then
		echo "${d//-/.}" | sed -E 's/^([0-9]+\.[0-9]+\.[0-9]+)\./\1+/'
	else
		echo "0.0.0+git.${d//-/.}"
	fi
}
export SPARE_VERSION=${SPARE_VERSION:-$(version_from_git)}
export SPARE_ARCH=${SPARE_ARCH:-$(go env GOARCH)}

# Dates inside the packages (changelog, manual pages, file times) are
# the commit's, so that one commit gives the same packages.
# nfpm takes it for every file's and directory's time, the archives'
# members and the .rpm's build time.
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	if ! SOURCE_DATE_EPOCH=$(git -C "$root" log -1 --format=%ct 2>/dev/null); then
		SOURCE_DATE_EPOCH=$(date +%s)
		echo "build.sh: no git history here: the packages carry today's date and are not reproducible (set SOURCE_DATE_EPOCH)" >&2
	fi
fi
export SOURCE_DATE_EPOCH

# The app icon comes from the assets package once it exists.
icon=$root/assets/app.svg
[ -f "$icon" ] || icon=$here/linux/spare-placeholder.svg

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
install -m 0755 "$bin" "$stage/spare"
cp "$here/linux/spare-node.service" "$here/linux/spare.desktop" "$here/linux/spare-autostart.desktop" "$here/README.md" "$root/LICENSE" "$stage/"
cp "$icon" "$stage/spare.svg"
# AppStream metadata for the software centres: this version, the commit's
# date, the packages' licence, and the commit whose goldens are the
# screenshots.
ref=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo main)
license=$(sed -n 's/^license: //p' "$here/nfpm.yaml")
sed -e "s|@VERSION@|$SPARE_VERSION|" -e "s|@DATE@|$(date -u -d "@$SOURCE_DATE_EPOCH" +%F)|" \
	-e "s|@REF@|$ref|g" -e "s|@LICENSE@|$license|" \
	"$here/linux/io.sparegpu.spare.metainfo.xml" >"$stage/io.sparegpu.spare.metainfo.xml"
# Each maintainer script gets scripts/common.sh in place of its #COMMON# line.
for f in deb/postinst deb/prerm deb/postrm rpm/post rpm/preun rpm/postun; do
	mkdir -p "$stage/scripts/$(dirname "$f")"
	awk -v common="$here/linux/scripts/common.sh" '
		$0 == "#COMMON#" { while ((getline l < common) > 0) print l; next }
		{ print }' "$here/linux/scripts/$f" >"$stage/scripts/$f"
	chmod 0755 "$stage/scripts/$f"
done

# The manual pages, from the command definitions (the binary writes them,
# so it must run here: build on the architecture you package for).
"$stage/spare" man "$stage/man" >&2
gzip -9n "$stage"/man/*.1

# Licences: /usr/share/doc/spare/copyright in the .deb, NOTICES and
# LICENSE under /usr/share/licenses/spare in the .rpm.
"$here/licenses/notices.sh" "$stage" >&2

# The changelog, from the history (see linux/changelog.sh): a file in
# the .deb, the %changelog of the .rpm (nfpm takes it in chglog's form).
"$here/linux/changelog.sh" "$SPARE_VERSION" deb | gzip -9n >"$stage/changelog.gz"
"$here/linux/changelog.sh" "$SPARE_VERSION" chglog >"$stage/changelog.yml"
cp "$here/linux/lintian-overrides" "$stage/"

# Debug symbols go into a file beside the packages; the shipped binary is
# stripped and names it (gdb finds it there or in /usr/lib/debug).
debug=spare_${SPARE_VERSION}_${SPARE_ARCH}.debug
objcopy --only-keep-debug "$stage/spare" "$out/$debug"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/spare"
(cd "$out" && objcopy --add-gnu-debuglink="$debug" "$stage/spare")

# Dependencies: what the binary links (linux/depends.sh) and what GLFW,
# the desktop toolkit's windowing library, opens at run time.
# nfpm takes them as lists in its configuration: each "- @DEPENDS@"
# line there becomes one line per dependency.
"$here/linux/depends.sh" "$stage/spare" "$stage/depends"
awk -v deb="$stage/depends/deb-depends" -v rpm="$stage/depends/rpm-requires" -v stage="$stage" '
	function list(file, indent,   l) { while ((getline l < file) > 0) print indent "- \"" l "\"" }
	/- "@DEB_DEPENDS@"/ { sub(/-.*/, ""); list(deb, $0); next }
	/- "@RPM_REQUIRES@"/ { sub(/-.*/, ""); list(rpm, $0); next }
	/# @RPM_MAN_PAGES@/ {
		cmd = "cd " stage "/man && ls *.1.gz"
		while ((cmd | getline m) > 0)
			printf "  - src: man/%s\n    dst: /usr/share/man/man1/%s\n    type: doc\n    packager: rpm\n    file_info:\n      mode: 0644\n", m, m
		next
	}
	{ print }' "$here/nfpm.yaml" >"$stage/nfpm.yaml"
# nfpm would write the chglog changelog into the .deb too, under the name
# of a non-native package's: only the .rpm's configuration names it.
cp "$stage/nfpm.yaml" "$stage/nfpm-rpm.yaml"
echo "changelog: changelog.yml" >>"$stage/nfpm-rpm.yaml"

cd "$stage"
find . -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
rpm_arch=$SPARE_ARCH
case $SPARE_ARCH in amd64) rpm_arch=x86_64 ;; arm64) rpm_arch=aarch64 ;; esac
for fmt in ${SPARE_FORMATS:-deb rpm}; do
	# Each format's own file name: spare_1.2.3_amd64.deb, spare-1.2.3-1.x86_64.rpm.
	pkg=$out/spare_${SPARE_VERSION}_${SPARE_ARCH}.deb
	[ "$fmt" = rpm ] && pkg=$out/spare-${SPARE_VERSION}-1.$rpm_arch.rpm
	config=$stage/nfpm.yaml
	[ "$fmt" = rpm ] && config=$stage/nfpm-rpm.yaml
	go run "$NFPM" package --config "$config" --packager "$fmt" --target "$pkg" >&2
	echo "$pkg"
done
