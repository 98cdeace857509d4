// Package market is Spare's job market without the network: the job spec,
// a provider's quote or refusal, pricing, the requester's choice of
// providers, per-peer trust and replica comparison, and the messages and
// session state machines of the job protocol. The p2p package carries the
// bytes; the wallet signs, verifies and records the money.
//
// # Money
//
// Amounts are unsigned integers in the payment token's smallest unit
// (6 decimals). A provider's Price is per GPU-second and per core-second.
// A job's per-second Rate rounds up (it is compared with the requester's
// max price); the cost of metered counters rounds down once, over the
// cumulative counters: floor((gpuMs·perGPU + cpuMs·perCPU) / 1000), the
// wallet's MeteredCost, which its Agreement.Cost uses too.
//
// # Protocol /spare/job/1.0.0
//
// One stream per job. Every message is one p2p/wire frame whose body is
//
//	body    = type version payload
//	type    = uvarint   ; MsgType below
//	version = uvarint   ; 1 for every type so far
//	payload = JSON object of the type's fields, unknown fields refused
//
// at most MaxMessageSize bytes. DecodeMessage refuses unknown types,
// versions other than 1, oversized bodies, trailing data and values out
// of bounds, with an error wrapping ErrBadMessage; the handler then sends
// a wire error frame with code "protocol" and resets the stream. Codes
// (RefusalCode, ResultError, PreemptReason) are checked for their form
// (1 to 64 of a-z, 0-9, _), not against the known set: new codes may be
// added, and a requester treats a result code it does not know as the
// job's failure, not the provider's.
//
//	type  name         direction  fields (JSON)
//	1     Proposal     R → P      job_id, spec (a JobSpec), requester (0x address)
//	2     Quote        P → R      job_id, job_hash, price{per_gpu_second, per_cpu_second},
//	                              rate, max_cost, interval_seconds, max_duration_seconds, expires_at
//	3     Refusal      either     job_id, code (RefusalCode), message
//	4     Agreement    R → P → R  job_id, job_hash, requester, payee, channel_id, deposit,
//	                              gpus, cpu_millis, price, interval_seconds, max_duration_seconds,
//	                              starts_at, requester_sig, provider_sig (65-byte EIP-712 signatures)
//	5     Receipt      P → R      job_id, seq, start, end, gpu_ms, cpu_ms, cumulative,
//	                              prev_hash, final, sig
//	6     Voucher      R → P      job_id, channel_id, cumulative, sig
//	7     LogChunk     P → R      job_id, seq, stream (stdout|stderr), data (≤ 32 KiB)
//	8     Result       P → R      job_id, exit_code, outputs[{path, digest, size}], log_tail,
//	                              error (ResultError: timeout|memory|output_full|cancelled|credit_limit|preempted|internal)
//	9     Preemption   P → R      job_id, reason (PreemptReason: user_returned|draining|credit_limit), frozen, grace_seconds
//	10    Cancel       R → P      job_id, reason
//
// Hashes are 0x and 64 hex digits, addresses 0x and 40, byte strings base64.
// An agreement's deposit is what the requester's payment channel holds for
// the job (1 to 2^63-1 units); the provider refuses one below the quote's
// max_cost, so every receipt the job can earn is covered.
// Type 0x7f is the framing's error frame and is never a market message.
//
// A job runs: Proposal → Quote (or Refusal) → Agreement signed by the
// requester → Agreement countersigned by the provider → every interval
// (DefaultInterval, 10 s) a Receipt answered by a Voucher for its
// cumulative amount, LogChunks in between → on exit a final Receipt and a
// Result → the final Voucher. The provider freezes the job when unpaid
// work passes the credit limit (CreditLimit, provided by the wallet) and
// ends it when payment stays away. ProviderSession and RequesterSession
// are the two sides as pure state machines: Step(input, now) returns the
// next state, the messages to send and the local actions, or an error
// wrapping ErrOutOfOrder and no change. Outgoing agreements, receipts and
// vouchers are unsigned: the glue has the wallet sign and record them
// before sending, and checks incoming signatures before Step.
package market
