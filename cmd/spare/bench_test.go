package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sparegpu/spare/internal/testenv"
)

// Benchmarks of whole commands. Each reports medians (and ratios against a
// baseline measured in the same run, interleaved) as custom metrics:
//
//	go test -run '^$' -bench . -benchtime 20x ./cmd/spare

func timeCmd(b *testing.B, name string, args ...string) time.Duration {
	b.Helper()
	start := time.Now()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		b.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return time.Since(start)
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkRunVsCtr compares `spare run` of a trivial job with
// `ctr run --rm` of the same image, alternating the two.
func BenchmarkRunVsCtr(b *testing.B) {
	testenv.NeedRoot(b)
	sock := testenv.ContainerdSocket(b)
	img := testenv.Workload(b, "probe")
	ctr := testenv.NeedCommand(b, "ctr", "containerd")
	data := b.TempDir()
	const ns = "spare-bench-ctr"
	spareArgs := []string{"--data", data, "--containerd", sock, "run", "--image", "spare.local/probe:1", "--", "exit", "0"}
	timeCmd(b, spareBin, "--data", data, "--containerd", sock, "image", "import", img)
	timeCmd(b, ctr, "-a", sock, "-n", ns, "images", "import", img)
	var spareT, ctrT []time.Duration
	b.ResetTimer()
	for i := range b.N {
		spareT = append(spareT, timeCmd(b, spareBin, spareArgs...))
		ctrT = append(ctrT, timeCmd(b, ctr, "-a", sock, "-n", ns, "run", "--rm", "spare.local/probe:1", fmt.Sprintf("bench-%d", i), "/probe", "exit", "0"))
	}
	b.StopTimer()
	sm, cm := median(spareT), median(ctrT)
	b.ReportMetric(ms(sm), "spare-run-ms")
	b.ReportMetric(ms(cm), "ctr-run-ms")
	b.ReportMetric(float64(sm)/float64(cm), "ratio")
}

// BenchmarkWorkloads measures the import and run time of each reference
// workload through the CLI.
func BenchmarkWorkloads(b *testing.B) {
	testenv.NeedRoot(b)
	sock := testenv.ContainerdSocket(b)
	for _, name := range []string{"probe", "render", "ocr"} {
		b.Run(name, func(b *testing.B) {
			img := testenv.Workload(b, name)
			data := b.TempDir()
			base := []string{"--data", data, "--containerd", sock}
			args := map[string][]string{"probe": {"--", "exit", "0"}}[name]
			if name == "ocr" {
				in := filepath.Join(b.TempDir(), "line.png")
				writeTextPNG(b, in, "Spare renders and reads")
				args = []string{"--input", in}
			}
			var imp, run []time.Duration
			for range b.N {
				exec.Command(spareBin, append(base, "image", "rm", "spare.local/"+name+":1")...).Run()
				imp = append(imp, timeCmd(b, spareBin, append(base, "image", "import", img)...))
				run = append(run, timeCmd(b, spareBin, append(append(base, "run", "--image", "spare.local/"+name+":1", "--output", b.TempDir()), args...)...))
			}
			b.ReportMetric(ms(median(imp)), "import-ms")
			b.ReportMetric(ms(median(run)), "run-ms")
		})
	}
}
