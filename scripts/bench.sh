#!/usr/bin/env bash
# Prints Spare's performance figures. Run through `make bench`, which
# starts a private containerd and builds the workloads first. Each figure is
# a median over repeated runs; ratios compare against a baseline measured
# in the same run, interleaved, so a noisy machine moves both alike.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BENCHTIME:=20x}"
run() { echo; echo "## $1"; shift; go test -run '^$' "$@" 2>&1 | grep -E '^(Benchmark|ok|FAIL|---|bench:)' ; }

run "spare run vs ctr run --rm (trivial job; goal ratio <= 1.3)" -bench RunVsCtr -benchtime "$BENCHTIME" ./cmd/spare
run "pause latency, call -> frozen, 50 cycles (goal p99 <= 50 ms)" -bench PauseLatency -benchtime 1x ./sandbox
run "workloads: import and run time" -bench Workloads -benchtime 5x ./cmd/spare
run "wallet: EIP-712 voucher sign+verify, durable writes (one core; goals >= 5000/s, >= 1000/s)" -bench . -benchtime 3s -cpu 1 ./wallet
echo; echo "## escrow gas (settle, close) on the simulated chain, today's forks"
go test -count=1 -run TestGasUsed -v ./wallet/evm 2>&1 | grep -i 'gas'
# On geth --dev (SPARE_TEST_RPC, all forks, a block a second): gas per
# approve, open and settle; transactions per job (both wallets, deposit to
# the last settlement after a close request) for a one-minute and a
# one-hour job at 3 tokens an hour under the default settle policy; median
# time from a voucher to its settlement confirmed.
run "escrow on geth --dev: gas, transactions per job, voucher -> confirmed settlement" -bench SettlementOnGeth -benchtime 1x -timeout 10m ./wallet/evm
run "market: submit round trip on loopback (through the daemon, in process) vs spare run vs ctr run; goal daemon/ctr <= 1.5" -bench SubmitRoundTrip -benchtime 10x ./cmd/spare
# First contact: `spare submit --bootstrap ADDR` from its host's start to a
# ranked match (the first proposal), ADDR a provider without a DHT vs a
# bootstrap node with the provider in its DHT. Goal: no-dht ms <= 1000.
run "market: first contact, submit start -> match, with and without a DHT (goal no-dht ms <= 1000)" -bench FirstContact -benchtime 5x ./market
# Time-to-discoverable with no Spare server: a fresh provider's start until a
# fresh requester is connected to it through the public rendezvous record,
# on a fake public DHT of 3 kad-dht servers on loopback (no NAT, no latency).
run "p2p: time-to-discoverable through the public rendezvous (loopback)" -bench Rendezvous -benchtime 5x ./p2p
# The simulated internet (TestSimInternet: network namespaces, Amino DHT
# servers, a volunteer relay, home routers with full-cone, port-restricted
# and symmetric NATs; needs root): per NAT type, SPARE_BENCH_SIM_RUNS fresh
# providers, each found by a fresh requester behind its own NAT; the
# provider's start -> the requester connected to it (median), and how many
# job streams then ran on a direct (hole-punched) connection.
echo; echo "## p2p: simulated internet: time-to-discoverable and hole-punch success per NAT type"
SPARE_BENCH_SIM_RUNS=${SPARE_BENCH_SIM_RUNS:-5} go test -count=1 -run '^TestSimInternet$' -v -timeout 40m ./p2p 2>&1 | grep -E 'SIMBENCH|^(ok|FAIL|---)' | sed 's/^ *siminternet_bench_test.go:[0-9]*: //'
# A paid job through the real daemons in the simulated internet
# (TestSimInternetPaidJob: `spare node` and `spare submit` each behind a
# port-restricted NAT, four public `spare bootstrap` nodes, the render
# workload, its image and outputs over a hole-punched connection; needs
# root): `spare submit` start -> the job running on the provider (its
# status stream) and -> submit's exit, for the test's own job and the
# median of SPARE_BENCH_SIMJOB_RUNS more, each from a fresh requester.
echo; echo "## market: a paid job through the daemons behind NATs in the simulated internet: submit -> running, -> done"
SPARE_BENCH_SIMJOB_RUNS=${SPARE_BENCH_SIMJOB_RUNS:-3} go test -count=1 -run '^TestSimInternetPaidJob$' -v -timeout 20m ./cmd/spare 2>&1 | grep -E 'SIMJOB|^(ok|FAIL|---)' | sed 's/^ *siminternet_test.go:[0-9]*: //'
# Scale: a bootstrap node and 200 provider hosts in one process on loopback
# (TCP only, see benchListen in market/discovery_bench_test.go); new
# requesters discover them and match a job; one ad round is measured.
# Goal: all-ms (every provider discovered and ranked) <= 1000.
# SPARE_BENCH_PROVIDERS sets the count.
SPARE_BENCH_PROVIDERS=${SPARE_BENCH_PROVIDERS:-200} run "market: discovery + match with ${SPARE_BENCH_PROVIDERS:-200} providers, ad traffic (goal all-ms <= 1000)" -bench DiscoverMatch -benchtime 3x -timeout 30m ./market
# The same scale with every node off the ads topic (--ads pull): what one
# home provider spends per hour at rest, per DHT record and per requester
# that asks it (docs/scale-model.md). Goal: homeB/h@100req <= 1 MB.
SPARE_BENCH_PROVIDERS=${SPARE_BENCH_PROVIDERS:-200} run "market: a pull-only home node among ${SPARE_BENCH_PROVIDERS:-200} providers (goal homeB/h@100req <= 1000000)" -bench PullHomeNode -benchtime 3x -timeout 20m ./market
# A fresh pull-only requester's first contact with those providers: one
# batch from a volunteer (/spare/ads/batch/1.0.0) against the DHT lookup
# and one ad query per provider; time and the requester's bytes.
SPARE_BENCH_PROVIDERS=${SPARE_BENCH_PROVIDERS:-200} run "market: first contact with ${SPARE_BENCH_PROVIDERS:-200} providers, one volunteer batch vs per-provider queries" -bench BatchFirstContact -benchtime 3x -timeout 20m ./market
echo; echo "## presence: give-back (xdotool input -> Freeze), X11 idle alarm vs 50 ms poll, same nudges (goal p99 <= 150 ms)"
go test -count=1 -run '^$' -bench GiveBack -benchtime 1x ./node 2>&1 | grep -E '^(Benchmark|ok|FAIL|---)|: [0-9]+ trials'
echo; echo "## presence: give-back with a real sandbox job (xdotool input -> task frozen)"
SPARE_LATENCY_TRIALS=50 go test -count=1 -run TestX11GiveBackRealJob -v ./node 2>&1 | grep -E 'give-back|^(ok|FAIL|---)'
echo; echo "## presence: CPU of sensor + governor, ${SPARE_BENCH_CPU_SECONDS:-60} s per case (goal <= 0.2 % of a core)"
go test -count=1 -run '^$' -bench SensorCPU -benchtime 1x -timeout 20m ./node 2>&1 | grep -E '^(ok|FAIL|---)|of one core'
# The desktop app under Xvfb with a tray host: launch to the status sentence
# drawn (goal <= 1 s warm) and resident memory after SPARE_BENCH_APP_IDLE
# open and idle (default 1m; the closing figure uses 5m; goals app <= 150 MB,
# daemon <= 60 MB), and closed to the tray (goal <= 100 MB), the tray
# process alone beside the one-process app (--one-process, as before):
# medians of SPARE_BENCH_APP_TRAY_RUNS (3) interleaved runs each, on the
# "bench: tray-only RSS" line. Built with make's GOFLAGS (no_emoji), as shipped.
SPARE_BENCH_APP_IDLE=${SPARE_BENCH_APP_IDLE:-1m} run "desktop app: launch and idle memory (idle ${SPARE_BENCH_APP_IDLE:-1m})" -bench DesktopApp -benchtime 1x -timeout 30m ./cmd/spare
