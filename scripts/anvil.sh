#!/usr/bin/env bash
# Prints the path of anvil, the Ethereum node whose clock tests move
# (evm_increaseTime: geth --dev cannot, and the escrow's grace period is
# 24 hours), installing it from npm at the pinned version when the cache
# has none, as scripts/ethers.sh does for ethers. Cached in
# $SPARE_ANVIL_CACHE (default ~/.cache/spare/anvil-VERSION);
# internal/gethtest finds it there. With --cached it installs nothing and
# prints nothing when the cache has none.
set -euo pipefail
ANVIL_VERSION=1.7.1 # internal/gethtest.AnvilVersion
dir=${SPARE_ANVIL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/spare/anvil-$ANVIL_VERSION}
bin="$dir/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
if [ ! -x "$bin" ] && [ "${1:-}" = --cached ]; then
  exit 0
fi
if [ ! -x "$bin" ]; then
  echo "anvil.sh: installing anvil $ANVIL_VERSION into $dir (once)" >&2
  mkdir -p "$dir"
  tmp=$(mktemp -d "$dir/.install.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  npm install --prefix "$tmp" --no-save --no-audit --no-fund "@foundry-rs/anvil-linux-amd64@$ANVIL_VERSION" >&2
  rm -rf "$dir/node_modules"
  mv "$tmp/node_modules" "$dir/node_modules"
fi
echo "$bin"
