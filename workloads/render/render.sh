#!/bin/sh
# Entrypoint of the Spare render image: renders /input/scene.pov when the
# job brings one, else the bundled scene, to /output/frame.bmp. Extra
# arguments go to POV-Ray (e.g. +W640 +H480).
set -e
scene=/opt/render/scene.pov
[ -f /input/scene.pov ] && scene=/input/scene.pov
cd /output
exec /usr/bin/povray +I"$scene" +O/output/frame.bmp +FB +W320 +H240 +A0.3 -D -P +V \
	+L/usr/share/povray-3.7/include +L/opt/render +L/input "$@"
