// Package node is the daemon, `spare node`: it wires what it is given —
// the sandbox, the wallet and the market's provider side (Market) — and
// what it reads itself — GPU telemetry, the presence sensors it can see —
// to a governor, and serves the LocalAPI, the server half of package
// localapi (api*.go: status, events, pause and resume, presence, wallet,
// settings, telemetry, the current job, jobs submitted through the
// daemon, metrics).
//
// The daemon starts jobs under the governor (StartJob): a job freezes
// when the owner returns and ends when the owner stays. On SIGINT or
// SIGTERM its Serve drains: every job ends before it returns.
//
// The owner's settings are package settings' (validated, saved, turned
// into governor rules and market terms); the governor's decisions are
// package governor's; the market's provider side is package provider,
// which meets the daemon through Market here and its own Daemon
// interface there.
package node
