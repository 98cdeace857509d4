#!/usr/bin/env bash
# Runs a command with the services Spare's tests and playground need: a
# private containerd (own root, state and socket in a temp dir) unless
# SPARE_TEST_CONTAINERD already names a running one; and, when
# scripts/geth.sh has built geth (scripts/deps.sh test does), one Ethereum
# node in --dev mode on a free loopback port that every test package
# shares, unless SPARE_TEST_RPC already names one. Exports
# SPARE_TEST_CONTAINERD and SPARE_TEST_RPC, runs "$@", and stops what it
# started on exit.
# (Tests that need an X server start an Xvfb of their own:
# testenv.PrivateDisplay.)
set -euo pipefail

tmp=$(mktemp -d /tmp/spare-services.XXXXXX)
# Traversable, like /run/containerd: a job in a user namespace is not root
# of the host, and runc mounts its rootfs from below this directory.
chmod 0711 "$tmp"
pids=()
cleanup() {
  local rc=$?
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  # containerd leaves shims and mounts behind when killed: end them too.
  if [ -d "$tmp/state" ]; then
    pkill -f "containerd-shim.*-address $tmp/containerd.sock" 2>/dev/null || true
    grep -o " $tmp/[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  fi
  rm -rf "$tmp" 2>/dev/null
  exit $rc
}
trap cleanup EXIT

if [ -z "${SPARE_TEST_CONTAINERD:-}" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "with-services: a private containerd needs root; run with sudo or set SPARE_TEST_CONTAINERD" >&2
    exit 1
  fi
  command -v containerd >/dev/null || { echo "with-services: containerd is not installed (scripts/deps.sh test)" >&2; exit 1; }
  cat >"$tmp/config.toml" <<CONF
version = 2
root = "$tmp/root"
state = "$tmp/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$tmp/containerd.sock"
[ttrpc]
  address = "$tmp/containerd.sock.ttrpc"
[debug]
  address = "$tmp/debug.sock"
CONF
  containerd --config "$tmp/config.toml" >"$tmp/containerd.log" 2>&1 &
  pids+=($!)
  # Up to a minute: a loaded CI machine starts it in seconds, not tenths.
  for _ in $(seq 600); do
    [ -S "$tmp/containerd.sock" ] && break
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  [ -S "$tmp/containerd.sock" ] || { echo "with-services: containerd did not start:" >&2; cat "$tmp/containerd.log" >&2; exit 1; }
  export SPARE_TEST_CONTAINERD="$tmp/containerd.sock"
fi

if [ -z "${SPARE_TEST_RPC:-}" ]; then
  geth=$("$(dirname "$0")/geth.sh" --cached)
  if [ -n "$geth" ]; then
    "$geth" --dev --dev.period 1 --datadir "$tmp/geth" --ipcdisable --nodiscover --maxpeers 0 --port 0 \
      --authrpc.port 0 --http --http.addr 127.0.0.1 --http.port 0 --http.api eth,net,web3 >"$tmp/geth.log" 2>&1 &
    pids+=($!)
    endpoint=""
    for _ in $(seq 600); do
      endpoint=$(sed -n 's/.*HTTP server started.*endpoint=\([^ ]*\).*/\1/p' "$tmp/geth.log" | head -n1)
      [ -n "$endpoint" ] && break
      kill -0 "${pids[-1]}" 2>/dev/null || break
      sleep 0.1
    done
    [ -n "$endpoint" ] || { echo "with-services: geth did not start:" >&2; tail -n 30 "$tmp/geth.log" >&2; exit 1; }
    export SPARE_TEST_RPC="http://$endpoint"
  fi
fi

"$@"
