package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/sparegpu/spare/gpu"
)

// wslCDIDir is where the daemon writes its CDI spec under WSL: the
// runtime directory containerd's CDI support reads (gpu.DefaultCDIDirs),
// emptied at each boot, so each daemon start writes it afresh for the
// GPUs and driver it finds.
const wslCDIDir = "/var/run/cdi"

// wslGPUSpec writes the CDI spec for WSL2's GPU paravirtualisation when
// the daemon runs in a WSL distribution (Spare's own, on Windows): there
// no NVIDIA toolkit writes one, and without it no job could be given a
// GPU. Elsewhere, and with no NVIDIA GPU through WSL, it does nothing
// but say so; the daemon then offers CPU-only work as on any host.
func wslGPUSpec(ctx context.Context, log *slog.Logger) {
	if !gpu.IsWSL("/", os.Getenv) {
		return
	}
	var devs []gpu.Device
	if nv, err := gpu.Open(); err != nil {
		log.Info("WSL: no NVML; the CDI spec offers the GPUs as one device", "why", err)
	} else {
		snap, err := nv.Snapshot(ctx)
		nv.Close()
		if err != nil {
			log.Warn("WSL: reading the GPUs through NVML", "err", err)
		}
		devs = snap.Devices
	}
	path, err := gpu.WriteWSLCDISpec("/", wslCDIDir, gpu.DefaultCDIDirs, devs)
	switch {
	case err != nil:
		log.Warn("WSL: no CDI spec for the GPU; jobs run CPU-only. Update the NVIDIA driver on Windows (it brings WSL's GPU support) and restart Spare", "err", err)
	case path == "":
		log.Info("WSL: an NVIDIA CDI spec is installed already; using it")
	default:
		log.Info("WSL: wrote the CDI spec for the GPU", "path", path, "gpus", len(devs))
	}
}
