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

# The app icon comes from the assets package once it exists.
icon=$root/assets/app.svg
[ -f "$icon" ] || icon=$here/linux/spare-placeholder.svg

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
install -m 0755 "$bin" "$stage/spare"
cp "$here/linux/spare-node.service" "$here/linux/spare.desktop" "$here/linux/spare-autostart.desktop" "$here/README.md" "$stage/"
cp "$icon" "$stage/spare.svg"
# Each maintainer script gets scripts/common.sh in place of its #COMMON# line.
for f in deb/postinst deb/prerm deb/postrm rpm/post rpm/preun rpm/postun; do
	mkdir -p "$stage/scripts/$(dirname "$f")"
	awk -v common="$here/linux/scripts/common.sh" '
		$0 == "#COMMON#" { while ((getline l < common) > 0) print l; next }
		{ print }' "$here/linux/scripts/$f" >"$stage/scripts/$f"
	chmod 0755 "$stage/scripts/$f"
done

cd "$stage"
for fmt in ${SPARE_FORMATS:-deb rpm}; do
	pkg=$out/spare_${SPARE_VERSION}_${SPARE_ARCH}.$fmt
	go run "$NFPM" package --config "$here/nfpm.yaml" --packager "$fmt" --target "$pkg" >&2
	echo "$pkg"
done
