#!/usr/bin/env bash
# Builds the root filesystem of Spare's WSL distribution, the image the
# Windows app imports with `wsl --import` on its first run:
#
#   packaging/windows/build-rootfs.sh SPARE.deb OUT.tar.gz
#
# It is Debian bookworm (mmdebstrap's apt variant) with systemd,
# containerd, runc and the given spare .deb installed by apt without
# recommended packages (less what wsl/dpkg-excludes leaves out),
# wsl/wsl.conf as /etc/wsl.conf, and the state a build leaves behind
# (apt's lists and downloads, logs, machine-id) removed. Every file's
# time is SOURCE_DATE_EPOCH (default: the last commit's time), entries
# are sorted and gzip stores no name or time, so the same inputs (the
# .deb, the Debian packages apt picked, this script) give the same bytes.
#
# Needs root (apt installs in a chroot) and mmdebstrap. Caches, under
# ${XDG_CACHE_HOME:-~/.cache}/spare/packaging (shared with the packaging
# tests): the base root, keyed by mmdebstrap's arguments; apt's downloads
# (apt-archives), so that a rebuild runs offline; and the image itself,
# keyed by its inputs. Delete the cache to pick up Debian's updates.
set -euo pipefail
deb=${1:?usage: build-rootfs.sh SPARE.deb OUT.tar.gz}
out=${2:?usage: build-rootfs.sh SPARE.deb OUT.tar.gz}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "build-rootfs.sh: needs root (apt installs into a chroot); run it with sudo" >&2; exit 1; }
[ -f "$deb" ] || { echo "build-rootfs.sh: no .deb at $deb; run 'make package' first" >&2; exit 1; }
command -v mmdebstrap >/dev/null || { echo "build-rootfs.sh: mmdebstrap is not installed (apt-get install mmdebstrap)" >&2; exit 1; }
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || date +%s)}
export LC_ALL=C.UTF-8

cache=${XDG_CACHE_HOME:-$HOME/.cache}/spare/packaging
mkdir -p "$cache/apt-archives"

# The image, when these inputs built one before.
key=$( { sha256sum "$0" "$here/wsl/wsl.conf" "$here/wsl/dpkg-excludes" "$deb" | cut -d' ' -f1; echo "$SOURCE_DATE_EPOCH"; } | sha256sum | cut -c1-16)
cached=$cache/wsl-rootfs-$key.tar.gz
if [ -f "$cached" ]; then
	cp "$cached" "$out"
	echo "build-rootfs.sh: $out from the cache ($cached)" >&2
	exit 0
fi

# The base root: the same arguments (and so the same cache file) as the
# packaging tests' debianRoot.
base_args=(--variant=apt --format=tar --skip=cleanup/apt/lists bookworm)
base=$cache/bookworm-$(printf '%s\0' "${base_args[@]}" | head -c -1 | sha256sum | cut -c1-12).tar
if [ ! -f "$base" ]; then
	mmdebstrap "${base_args[@]}" "$base.partial" >&2
	mv "$base.partial" "$base"
fi

work=$(mktemp -d /var/tmp/spare-rootfs.XXXXXX)
root=$work/root
cleanup() {
	set +e
	umount "$root/proc" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
mkdir "$root"
tar -xpf "$base" -C "$root" --numeric-owner
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }

# apt inside the root, from the shared download cache; the package lists
# are fetched again only when the cached ones name versions gone from
# the mirror.
cp -n "$cache"/apt-archives/*.deb "$root/var/cache/apt/archives/" 2>/dev/null || true
cp "$deb" "$root/tmp/spare.deb"
cp /etc/resolv.conf "$root/etc/resolv.conf"
install -m 0644 "$here/wsl/dpkg-excludes" "$root/etc/dpkg/dpkg.cfg.d/spare-wsl"
mount -t proc proc "$root/proc"
# systemd and systemd-sysv (/sbin/init): wsl.conf boots systemd, which
# starts containerd. usr-is-merged: the root is merged already; it
# stands in for usrmerge (and the Perl that came with it) below.
install=(apt-get install -y -q --no-install-recommends systemd systemd-sysv containerd runc usr-is-merged /tmp/spare.deb)
if ! in_root "${install[@]}" >"$work/apt.log" 2>&1; then
	if grep -q 404 "$work/apt.log"; then
		in_root apt-get update -q >&2
		in_root "${install[@]}" >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; exit 1; }
	else
		cat "$work/apt.log" >&2
		exit 1
	fi
fi
cp -n "$root"/var/cache/apt/archives/*.deb "$cache/apt-archives/" 2>/dev/null || true
umount "$root/proc"

# Perl came with mmdebstrap's base for usrmerge, which usr-is-merged
# replaces: nothing else here needs either (dpkg refuses if something does).
in_root dpkg --purge usrmerge libfile-find-rule-perl libnumber-compare-perl libtext-glob-perl \
	perl perl-modules-5.36 libperl5.36 >>"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; exit 1; }

# WSL's configuration; the app runs the daemon (see wsl.conf), so the
# .deb's service is disabled (and stays so across upgrades inside).
install -m 0644 "$here/wsl/wsl.conf" "$root/etc/wsl.conf"
in_root env DPKG_MAINTSCRIPT_PACKAGE=spare deb-systemd-helper disable spare-node.service
in_root dpkg-query -W -f '${Package} ${Version}\n' | sort >"$root/usr/share/doc/spare/wsl-packages.txt"

# What a build leaves that is not the distribution's: WSL writes
# resolv.conf and the host name at boot; systemd makes a machine-id on
# first boot (an empty file says so).
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
	"$root"/var/cache/apt/archives/partial/* "$root/tmp/spare.deb" "$root/etc/resolv.conf" "$root/etc/hostname" \
	"$root"/var/log/*.log "$root"/var/log/apt/* "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old \
	"$root/var/cache/ldconfig/aux-cache" "$root/var/lib/dbus/machine-id"
: >"$root/etc/machine-id"

tar --sort=name --format=gnu --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" -C "$root" -cf - . | gzip -6n >"$work/image.tar.gz"
rm -f "$cache"/wsl-rootfs-*.tar.gz # one image cached, the newest
mv "$work/image.tar.gz" "$cached"
cp "$cached" "$out"
echo "build-rootfs.sh: wrote $out ($(du -m "$out" | cut -f1) MiB)" >&2
