package main

import (
	"context"
	"testing"
	"time"

	"github.com/sparegpu/spare/localapi"
)

// TestNodeStopThroughLocalAPI: an owner's POST /v1/stop ends a real
// `spare node` as SIGTERM does (how the Windows app stops the daemon it
// started in the WSL distribution): the daemon drains, the provider, the
// household and the host stop with it, and the process exits 0. (Before
// they stopped with the daemon, the process stayed up serving nothing.)
func TestNodeStopThroughLocalAPI(t *testing.T) {
	_, nodes := startNetwork(t, 1)
	nd := nodes[0]
	if err := localapi.NewClient(nd.data).Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- nd.cmd.Wait() }() // ends with the process, or the test's cleanup ends it
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("spare node after POST /v1/stop: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("spare node still runs a minute after POST /v1/stop")
	}
}
