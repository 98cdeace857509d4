package hostile

import (
	"os"

	"github.com/sparegpu/spare/market"
	"github.com/sparegpu/spare/provider/faults"
)

// ProviderOption is one dishonest act of a provider.
type ProviderOption func(*faults.Provider)

// Faults is a provider's dishonesty, for provider.Config.Faults.
func Faults(opts ...ProviderOption) *faults.Provider {
	f := &faults.Provider{}
	for _, o := range opts {
		o(f)
	}
	return f
}

// Tamper rewrites each output file (its path on the provider's disk)
// before it is hashed and served.
func Tamper(f func(path string) error) ProviderOption {
	return func(p *faults.Provider) { p.Tamper = f }
}

// Forge replaces every output's content with content: a provider
// returning wrong results. Providers forging the same content agree with
// each other, as sybils would.
func Forge(content string) ProviderOption {
	return Tamper(func(path string) error { return os.WriteFile(path, []byte(content), 0o644) })
}

// RenameOutputs replaces the output list of each Result the provider
// sends with f's.
func RenameOutputs(f func([]market.Output) []market.Output) ProviderOption {
	return func(p *faults.Provider) { p.RenameOutputs = f }
}

// PlantOutputs names paths as a job's outputs, each with the digest and
// size of its first real output (so the requester can fetch them): a
// provider aiming files at the requester's home. A job without outputs
// keeps none.
func PlantOutputs(paths ...string) ProviderOption {
	return RenameOutputs(func(outs []market.Output) []market.Output {
		if len(outs) == 0 {
			return outs
		}
		var forged []market.Output
		for _, p := range paths {
			forged = append(forged, market.Output{Path: p, Digest: outs[0].Digest, Size: outs[0].Size})
		}
		return forged
	})
}

// Advertise makes the provider's ads say price a second, whatever it
// quotes: bait and switch when price is below its quote.
func Advertise(price uint64) ProviderOption {
	return func(p *faults.Provider) { p.AdPrice = func(uint64) uint64 { return price } }
}
