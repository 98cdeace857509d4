// Package faults is the one seam through which a test plays a dishonest
// provider: provider.Config.Faults. It exists for internal/hostile, the
// test-only package of hostile peers; the daemon never sets it, and a nil
// *Provider is honest behaviour. It lives in a package of its own, below
// provider, so that internal/hostile can build faults without importing
// provider, and provider's own tests can import internal/hostile.
package faults

import "github.com/sparegpu/spare/market"

// Provider is what a dishonest provider does differently from an honest
// one. A nil func is the honest behaviour; a nil *Provider is an honest
// provider.
type Provider struct {
	// Tamper rewrites each of a job's output files, given its path on the
	// provider's disk, after the job ends and before the file is hashed
	// and served: a provider returning wrong results.
	Tamper func(path string) error
	// RenameOutputs replaces the output list of a job's Result before it
	// is sent: a provider naming the paths the requester writes.
	RenameOutputs func([]market.Output) []market.Output
	// AdPrice is what the provider's ads say, given the rate it quotes: a
	// provider that advertises cheap and quotes dear. An ad so priced is
	// no promise the provider keeps.
	AdPrice func(quoted uint64) uint64
}
