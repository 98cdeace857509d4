// Package hostile holds the hostile peers Spare's tests play against the
// real provider and requester, over real libp2p hosts on loopback. Tests
// only: no file outside a _test.go imports it (internal/deptest checks).
//
// A hostile provider is an honest provider.Provider with faults
// (provider.Config.Faults): Faults(Forge(...)), Faults(PlantOutputs(...)),
// Faults(Advertise(1)). A hostile requester is a real market.Requester
// that misbehaves: NewRequester(t, NeverPay()), NewRequester(t,
// DripImage(16<<10, time.Second)). A flood of malformed or held job
// streams comes from a Flooder.
//
// A new attack is one option here (a few lines over a field of
// faults.Provider or market.Requester; a new kind of fault is a field in
// faults.Provider, read where the provider would act honestly), a test
// that plays it, and a row in docs/threat-model.md naming that test.
package hostile
