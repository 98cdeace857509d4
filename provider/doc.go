// Package provider is the provider side of Spare's market: it serves
// /spare/job/1.0.0 for a daemon (package node), quoting from the
// governor's state and the owner's terms, countersigning agreements,
// fetching a job's image and inputs by digest from its requester,
// starting the job under the governor, metering it with signed receipts,
// collecting vouchers, returning its outputs by digest, and publishing
// capacity ads while the governor says Available.
//
// Job streams are admitted within named limits (MaxSessionsPerPeer,
// MaxSessions, PendingEvictAfter, ProposalTimeout): a flood of idle or
// malformed streams cannot lock real requesters out. Every agreement,
// receipt and voucher is recorded in the wallet's ledger before the
// message that depends on it is sent.
//
// What a job leaves on the disk is bounded (retain.go): its directory
// goes when its session closes; blobs and the images imported for jobs
// are a cache swept least-recently-used to Config.Cache after every job,
// never removing an image a container uses, a blob a running job uses or
// an output its requester may still fetch; leftovers of a crash go at
// start.
package provider
