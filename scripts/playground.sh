#!/usr/bin/env bash
# The local playground behind `make run`: builds Spare and runs each
# reference workload through `spare run` in the sandbox a provider uses,
# printing what it produced. Expects SPARE_TEST_CONTAINERD (from
# scripts/with-services.sh) or a system containerd.
set -euo pipefail
cd "$(dirname "$0")/.."
sock=${SPARE_TEST_CONTAINERD:-/run/containerd/containerd.sock}
wl=${SPARE_WORKLOADS:-workloads/out}
data=$(mktemp -d /tmp/spare-playground.XXXXXX)
out=${PLAYGROUND_OUT:-playground-out}
trap 'rm -rf "$data"' EXIT
spare() { bin/spare --data "$data" --containerd "$sock" "$@"; }

echo "== spare doctor"
spare doctor || true

echo; echo "== probe: what a job sees from inside the sandbox"
for op in "id" "resolve example.com" "write /etc/passwd" "ps"; do
  printf '%-22s ' "$op"; spare run --image "$wl/probe.tar" -- $op || true
done

echo; echo "== render: POV-Ray draws a scene"
spare run --image "$wl/render.tar" --output "$out/render" --json >"$data/render.json" 2>/dev/null
echo "frame: $out/render/frame.bmp"; cat "$data/render.json"

if [ -f "$wl/ocr.tar" ]; then
  echo; echo "== ocr: a neural network reads a line of text"
  mkdir -p "$out/ocr-in"
  go run ./internal/cmd/textpng "Spare reads this line" >"$out/ocr-in/line.png"
  spare run --image "$wl/ocr.tar" --input "$out/ocr-in/line.png" --output "$out/ocr" --json >"$data/ocr.json" 2>/dev/null
  echo "read: $(cat "$out"/ocr/*.txt)"; cat "$data/ocr.json"
fi
echo; echo "Outputs are in $out/. Next: make test."
