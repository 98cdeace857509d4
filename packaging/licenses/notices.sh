#!/usr/bin/env bash
# Lists every Go library compiled into cmd/spare with its licence and
# notices, as go-licenses (pinned below) finds them, and writes:
#
#   OUTDIR/NOTICES    plain text: Spare's licence, then each library's
#                     licence text and NOTICE (the app's About page,
#                     `spare version --licenses`, the .rpm's licence files)
#   OUTDIR/copyright  the same in Debian's machine-readable format
#                     (/usr/share/doc/spare/copyright in the .deb)
#
# Usage: packaging/licenses/notices.sh OUTDIR
#
# go-licenses takes minutes (it loads every package and looks up each
# library's source host), so the result is cached under
# $XDG_CACHE_HOME/spare/notices, keyed on the modules cmd/spare uses,
# go.sum and this directory. It fails, naming the library, when a licence is unknown or
# would bind the whole program (GPL, AGPL): add a line to `overrides`
# only after reading the library's licence.
set -euo pipefail
GO_LICENSES=github.com/google/go-licenses@v1.6.0

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:?usage: notices.sh OUTDIR}
mkdir -p "$out"

# The key: the modules cmd/spare's packages come from (an import added
# without a go.mod change, of a module already required, changes it),
# go.sum, this directory and Spare's licence.
key=$( (cd "$root" && GOOS=linux CGO_ENABLED=1 go list -deps -f '{{with .Module}}{{.Path}} {{.Version}}{{end}}' ./cmd/spare | sort -u
	cat "$root/go.sum" "$here"/* "$root/LICENSE") | sha256sum | cut -c1-16)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/spare/notices/$key
if [ -s "$cache/NOTICES" ] && [ -s "$cache/copyright" ]; then
	cp "$cache/NOTICES" "$cache/copyright" "$out/"
	exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"
# The Linux build's libraries: the packages ship the Linux binary.
if ! GOOS=linux CGO_ENABLED=1 go run "$GO_LICENSES" report --ignore github.com/sparegpu/spare \
	--template "$here/report.tpl" ./cmd/spare >"$work/report" 2>"$work/log"; then
	cat "$work/log" >&2
	exit 1
fi

# overrides: import path -> licence and file.
declare -A over_lic over_file
while IFS=$'\t' read -r mod lic file; do
	[[ -z $mod || $mod = \#* ]] && continue
	over_lic[$mod]=$lic
	over_file[$mod]=$(go list -m -f '{{.Dir}}' "$mod")/$file
done <"$here/overrides"

# One entry per licence file: the libraries that share it, its licence.
declare -A names lics
order=()
while IFS=$'\t' read -r name lic path; do
	[ -n "$name" ] || continue
	if [ -n "${over_lic[$name]:-}" ]; then
		lic=${over_lic[$name]} path=${over_file[$name]}
	fi
	if [ -z "$path" ] || [ "$lic" = Unknown ] || [ ! -f "$path" ]; then
		echo "notices.sh: no licence known for $name (go-licenses: '$lic' ${path:-no file}); read it and add it to $here/overrides" >&2
		exit 1
	fi
	case $lic in
	GPL-* | AGPL-* | SSPL-*)
		echo "notices.sh: $name is $lic, which would bind all of Spare; it must not be linked" >&2
		exit 1
		;;
	esac
	if [ -z "${names[$path]:-}" ]; then
		order+=("$path")
		names[$path]=$name
		lics[$path]=$lic
	else
		names[$path]+=" $name"
	fi
done <"$work/report"
[ ${#order[@]} -gt 0 ] || { echo "notices.sh: go-licenses listed no libraries" >&2; exit 1; }

# version_of /root/go/pkg/mod/example.com/x@v1.2.3/LICENSE -> v1.2.3
version_of() { local v=${1#*@}; [ "$v" != "$1" ] && echo "${v%%/*}"; }
# deb_name: the licence's short name in Debian's copyright format.
deb_name() {
	case $1 in
	MIT) echo Expat ;;
	BSD-2-Clause) echo BSD-2-clause ;;
	BSD-3-Clause) echo BSD-3-clause ;;
	LGPL-3.0-or-later) echo LGPL-3+ ;;
	*) echo "$1" ;;
	esac
}
# Licences whose full text Debian keeps in /usr/share/common-licenses.
common_file() {
	case $1 in
	Apache-2.0) echo Apache-2.0 ;;
	MPL-2.0) echo MPL-2.0 ;;
	LGPL-3.0-or-later) echo LGPL-3 ;;
	esac
}
# indent: a copyright field's continuation lines (blank lines as " .").
indent() { sed -e 's/[[:space:]]*$//' -e 's/^$/./' -e 's/^/ /'; }
# holders: the copyright lines of a licence or notice text.
holders() { grep -hiE '^[[:space:]]*(copyright|\(c\)|©)[[:space:]]*(\(c\)|©)?[[:space:]]*(19|20)[0-9]{2}' "$@" | sed -E 's/^[[:space:]]+//' | sort -u || true; }
notice_of() { find "$(dirname "$1")" -maxdepth 1 -type f -regextype posix-extended -regex '.*/NOTICE(\.(txt|md))?' | sort; }

year=$(git -C "$root" log -1 --format=%cd --date=format:%Y 2>/dev/null || date -u +%Y)
{
	echo "Spare"
	echo "Copyright $year The Spare authors."
	echo "Licensed under the Apache License, Version 2.0 (the text is at the end)."
	echo
	echo "Spare contains the following Go libraries, each under its own licence."
	echo "The go-ethereum packages are under the GNU Lesser General Public License,"
	echo "version 3 or later: you may replace them with a modified version by"
	echo "building Spare from its source (see README.md, \"Licence\")."
	for p in "${order[@]}"; do
		echo
		echo "================================================================"
		echo "${names[$p]} $(version_of "$p")"
		echo "Licence: ${lics[$p]}"
		echo "----------------------------------------------------------------"
		cat "$p"
		for n in $(notice_of "$p"); do
			[ "$n" = "$p" ] && continue
			echo "---- $(basename "$n") ----"
			cat "$n"
		done
	done
	echo
	echo "================================================================"
	echo "Spare: Apache License, Version 2.0"
	echo "----------------------------------------------------------------"
	cat "$root/LICENSE"
} >"$work/NOTICES"

{
	echo "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
	echo "Upstream-Name: spare"
	echo "Upstream-Contact: Spare maintainers <maintainers@sparegpu.invalid>"
	echo "Source: https://github.com/sparegpu/spare"
	echo "Comment: The spare binary is statically linked with the Go libraries"
	echo " listed below; each paragraph's Files are its import paths. This file"
	echo " is generated from the build by go-licenses ($GO_LICENSES)."
	echo
	echo "Files: *"
	echo "Copyright: $year The Spare authors"
	echo "License: Apache-2.0"
	declare -A used
	for p in "${order[@]}"; do
		lic=$(deb_name "${lics[$p]}")
		echo
		printf 'Files:'
		for n in ${names[$p]}; do printf ' %s/*' "$n"; done
		echo
		h=$(holders "$p" $(notice_of "$p"))
		if [ -n "$h" ]; then
			echo "Copyright: $(head -1 <<<"$h")"
			tail -n +2 <<<"$h" | indent
		else
			echo "Copyright: the authors of ${names[$p]%% *} (no copyright line in its licence)"
		fi
		if [ -n "$(common_file "${lics[$p]}")" ]; then
			echo "License: $lic"
			used[${lics[$p]}]=1
		else
			echo "License: $lic"
			indent <"$p"
		fi
		comment="Go module version $(version_of "$p")."
		echo "Comment: $comment"
		for n in $(notice_of "$p"); do
			[ "$n" = "$p" ] && continue
			echo " ."
			echo " $(basename "$n"):"
			indent <"$n"
		done
	done
	used[Apache-2.0]=1
	for l in $(printf '%s\n' "${!used[@]}" | sort); do
		echo
		echo "License: $(deb_name "$l")"
		echo " On Debian systems the full text is in /usr/share/common-licenses/$(common_file "$l")."
		if [ "$l" = LGPL-3.0-or-later ]; then
			echo " It supplements the GNU General Public License, version 3, in"
			echo " /usr/share/common-licenses/GPL-3."
		fi
	done
} >"$work/copyright"

mkdir -p "$cache"
cp "$work/NOTICES" "$work/copyright" "$cache/"
cp "$work/NOTICES" "$work/copyright" "$out/"
