#!/bin/sh
# Entrypoint of the Spare render image: renders /input/scene.pov when the
# job brings one, else the bundled scene, to /output/frame.bmp. Extra
# arguments go to POV-Ray (e.g. +W640 +H480).
#
# POV-Ray's front end gives its worker thread a fixed few seconds to
# start and otherwise gives up ("Timed out waiting for worker thread
# startup"), which a busy machine can cause: that one failure is tried
# again, up to five times. Its messages are passed on after each try
# (the image has no tee: dash and POV-Ray only).
set -e
scene=/opt/render/scene.pov
[ -f /input/scene.pov ] && scene=/input/scene.pov
cd /output
log=/tmp/povray.log
tries=0
while :; do
	tries=$((tries + 1))
	status=0
	/usr/bin/povray +I"$scene" +O/output/frame.bmp +FB +W320 +H240 +A0.3 -D -P +V \
		+L/usr/share/povray-3.7/include +L/opt/render +L/input "$@" 2>"$log" || status=$?
	startup=
	while IFS= read -r line || [ -n "$line" ]; do
		printf '%s\n' "$line" >&2
		case $line in *"Timed out waiting for worker thread startup"*) startup=1 ;; esac
	done <"$log"
	if [ "$status" -ne 0 ] && [ -n "$startup" ] && [ "$tries" -lt 5 ]; then
		printf 'render: POV-Ray did not start its worker in time (try %d of 5); trying again\n' "$tries" >&2
		continue
	fi
	exit "$status"
done
