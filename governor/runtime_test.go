package governor

import (
	"slices"
	"testing"
	"time"

	"github.com/sparegpu/spare/gpu"
	"github.com/sparegpu/spare/localapi"
	"github.com/sparegpu/spare/presence"
)

// TestRuntimeGone: the container runtime stops answering while a job runs
// and the GPU is advertised: the job is ended, the ad withdrawn, and the
// state says so with the fix; when it answers again the GPU is offered
// again by itself.
func TestRuntimeGone(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	set := Settings{AlwaysAvailable: true}
	in := Inputs{Presence: presence.Report{At: now, IdleKnown: true, Idle: time.Hour}, Power: presence.Power{Charge: -1},
		GPU: gpu.Snapshot{At: now, Devices: []gpu.Device{{UUID: "GPU-1", Name: "RTX 4070"}}}}
	st, acts := Decide(Status{}, in, now, set)
	if st.Phase.State != Available || !slices.ContainsFunc(acts, func(a Action) bool { return a.Kind == ActPublish }) {
		t.Fatalf("start: %s, %v", st.Phase, acts)
	}
	in.Jobs = []Job{{ID: "job-1", GPUs: []string{"GPU-1"}}}
	st, _ = Decide(st, in, now, set)
	if st.Phase.State != Running {
		t.Fatalf("with a job: %s", st.Phase)
	}

	in.Runtime = "sudo systemctl start containerd"
	st, acts = Decide(st, in, now.Add(time.Second), set)
	if st.Phase.State != Waiting || st.Phase.Reason.Code != localapi.ReasonRuntime || !localapi.ReasonRuntime.Problem() {
		t.Fatalf("runtime gone: %s", st.Phase)
	}
	if got, want := st.Phase.Sentence(now), "Waiting: the container service stopped — start it: sudo systemctl start containerd"; got != want {
		t.Errorf("sentence %q, want %q", got, want)
	}
	ended := slices.ContainsFunc(acts, func(a Action) bool { return a.Kind == ActEnd && a.Job == "job-1" })
	if !ended || len(st.Advertised) != 0 {
		t.Fatalf("runtime gone: actions %v, advertised %v; want the job ended and nothing advertised", acts, st.Advertised)
	}

	in.Jobs, in.Runtime = nil, ""
	st, acts = Decide(st, in, now.Add(5*time.Second), set)
	if st.Phase.State != Available || !slices.ContainsFunc(acts, func(a Action) bool { return a.Kind == ActPublish }) {
		t.Fatalf("runtime back: %s, %v; want the GPU offered again", st.Phase, acts)
	}
}
