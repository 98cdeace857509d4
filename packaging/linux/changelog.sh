#!/usr/bin/env bash
# Prints the package changelog in Debian's format from the git history:
# one entry per release tag (v1.2.3), newest first, listing the subjects
# of its commits, and one for VERSION with the commits since the last
# tag. FORMAT deb (the default) is Debian's changelog; chglog is the YAML
# nfpm turns into the .rpm's %changelog.
# Usage: packaging/linux/changelog.sh VERSION [deb|chglog]
set -euo pipefail
version=${1:?usage: changelog.sh VERSION [deb|chglog]}
format=${2:-deb}
root=$(cd "$(dirname "$0")/../.." && pwd)
maint="Spare maintainers <maintainers@sparegpu.invalid>"

# entry VERSION RANGE: one changelog entry for the commits in RANGE.
entry() {
	local v=$1 range=$2 date
	date=$(git -C "$root" log -1 --format=%ct "${range##*..}")
	if [ "$format" = chglog ]; then
		echo "- semver: \"$v-1\"" # version-release, as the .rpm's header has it
		echo "  date: $(date -u -d "@$date" +%Y-%m-%dT%H:%M:%SZ)"
		echo "  packager: \"$maint\""
		echo "  changes:"
		git -C "$root" log --no-merges --format=%s "$range" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    - note: "/' -e 's/$/"/'
		return
	fi
	echo "spare ($v) unstable; urgency=medium"
	echo
	git -C "$root" log --no-merges --format=%s "$range" | while IFS= read -r s; do
		fold -s -w 74 <<<"$s" | sed -e 's/[[:space:]]*$//' -e '1s/^/  * /' -e '2,$s/^/    /'
	done
	echo
	echo " -- $maint  $(LC_ALL=C date -u -R -d "@$date")"
}

if ! git -C "$root" rev-parse --verify -q HEAD >/dev/null; then
	if [ "$format" = chglog ]; then
		printf -- '- semver: "%s-1"\n  date: %s\n  packager: "%s"\n  changes:\n    - note: "Built from a source tree without its git history."\n' \
			"$version" "$(date -u -d "@${SOURCE_DATE_EPOCH:-0}" +%Y-%m-%dT%H:%M:%SZ)" "$maint"
		exit 0
	fi
	echo "spare ($version) unstable; urgency=medium"
	echo
	echo "  * Built from a source tree without its git history."
	echo
	echo " -- $maint  $(LC_ALL=C date -u -R -d "@${SOURCE_DATE_EPOCH:-0}")"
	exit 0
fi
mapfile -t tags < <(git -C "$root" tag --list 'v[0-9]*' --sort=-version:refname --merged HEAD)
head=HEAD
if [ ${#tags[@]} -gt 0 ] && [ "$(git -C "$root" rev-parse "${tags[0]}^{commit}")" = "$(git -C "$root" rev-parse HEAD)" ]; then
	head=${tags[0]}
	tags=("${tags[@]:1}")
fi
if [ ${#tags[@]} -gt 0 ]; then
	entry "$version" "${tags[0]}..$head"
else
	entry "$version" "$head"
fi
for i in "${!tags[@]}"; do
	[ "$format" = chglog ] || echo
	next=${tags[$((i + 1))]:-}
	v=${tags[$i]#v}
	if [ -n "$next" ]; then
		entry "$v" "$next..${tags[$i]}"
	else
		entry "$v" "${tags[$i]}"
	fi
done
