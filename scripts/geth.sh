#!/usr/bin/env bash
# Prints the path of a geth binary for the tests' Ethereum node, building
# it first when the cache has none: go-ethereum's own cmd/geth at the
# version go.mod already requires, from the Go module proxy (no new
# dependency). Cached in $SPARE_GETH_CACHE (default ~/.cache/spare/geth);
# the first build takes several minutes on two cores. With --cached it
# builds nothing and prints nothing when the cache has no geth.
set -euo pipefail
cd "$(dirname "$0")/.."
ver=$(go list -m -f '{{.Version}}' github.com/ethereum/go-ethereum)
dir=${SPARE_GETH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/spare/geth}/$ver
if [ ! -x "$dir/geth" ] && [ "${1:-}" = --cached ]; then
  exit 0
fi
if [ ! -x "$dir/geth" ]; then
  echo "geth.sh: building geth $ver into $dir (once)" >&2
  mkdir -p "$dir"
  tmp=$(mktemp -d "$dir/.build.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  # Outside this module: cmd/geth's own go.mod and go.sum decide its
  # dependencies; the build tags of this project do not apply.
  (cd "$tmp" && GOFLAGS= GOBIN="$tmp" go install "github.com/ethereum/go-ethereum/cmd/geth@$ver")
  mv "$tmp/geth" "$dir/geth"
fi
echo "$dir/geth"
