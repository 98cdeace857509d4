#!/usr/bin/env bash
# Prints the node_modules directory holding ethers, the independent
# EIP-712 implementation the tests check exported records with, installing
# it from npm at the pinned version when the cache has none (as
# wallet/contracts/gen.sh does for solc). Cached in $SPARE_ETHERS_CACHE
# (default ~/.cache/spare/ethers-VERSION). With --cached it installs
# nothing and prints nothing when the cache has none.
set -euo pipefail
ETHERS_VERSION=6.13.4
dir=${SPARE_ETHERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/spare/ethers-$ETHERS_VERSION}
if [ ! -f "$dir/node_modules/ethers/package.json" ] && [ "${1:-}" = --cached ]; then
  exit 0
fi
if [ ! -f "$dir/node_modules/ethers/package.json" ]; then
  echo "ethers.sh: installing ethers $ETHERS_VERSION into $dir (once)" >&2
  mkdir -p "$dir"
  tmp=$(mktemp -d "$dir/.install.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  npm install --prefix "$tmp" --no-save --no-audit --no-fund "ethers@$ETHERS_VERSION" >&2
  rm -rf "$dir/node_modules"
  mv "$tmp/node_modules" "$dir/node_modules"
fi
echo "$dir/node_modules"
