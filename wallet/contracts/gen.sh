#!/usr/bin/env bash
# gen.sh regenerates the escrow contract's ABI, bytecode and Go bindings
# from the Solidity sources in this directory. Needs node and npm (solc is
# installed from npm at the pinned version into a cache directory) and Go.
set -euo pipefail
cd "$(dirname "$0")"
SOLC_VERSION=0.8.28
GETH_VERSION=v1.17.10
CACHE=${SPARE_SOLC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/spare/solc-$SOLC_VERSION}
if [ ! -f "$CACHE/node_modules/solc/package.json" ]; then
	mkdir -p "$CACHE"
	npm install --prefix "$CACHE" --no-save --no-audit --no-fund "solc@$SOLC_VERSION" >&2
fi
SOLC_MODULE="$CACHE/node_modules/solc" node compile.js
abigen="go run github.com/ethereum/go-ethereum/cmd/abigen@$GETH_VERSION"
$abigen --abi SpareEscrow.abi --bin SpareEscrow.bin --pkg contracts --type SpareEscrow --out escrow.go
$abigen --abi TestToken.abi --bin TestToken.bin --pkg contracts --type TestToken --out token.go
for t in NoReturnToken FeeToken FalseToken; do
	$abigen --abi $t.abi --bin $t.bin --pkg contracts --type $t --out quirky_$(echo $t | tr '[:upper:]' '[:lower:]').go
done
gofmt -l . | (! grep .) || { echo "gofmt differs" >&2; exit 1; }
