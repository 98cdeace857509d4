package main

import (
	"errors"
	"testing"

	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/market"
)

// A job the daemon could not run exits like one run in process: the
// daemon's error codes map back to the market's errors.
func TestDaemonSubmitErrorCodes(t *testing.T) {
	for _, c := range []struct {
		code        localapi.Code
		noProvider  bool
		disagreeing bool
	}{
		{localapi.CodeNoProvider, true, false},
		{localapi.CodeDisagree, false, true},
		{localapi.CodeFailed, false, false},
		{localapi.CodeCancelled, false, false},
	} {
		err := error(daemonSubmitError{&localapi.Error{Code: c.code, Message: "m"}})
		if errors.Is(err, market.ErrNoProvider) != c.noProvider || errors.Is(err, market.ErrReplicasDisagree) != c.disagreeing {
			t.Errorf("code %q: is no-provider %v, is disagree %v; want %v, %v", c.code,
				errors.Is(err, market.ErrNoProvider), errors.Is(err, market.ErrReplicasDisagree), c.noProvider, c.disagreeing)
		}
	}
}
