package main

import "github.com/sparegpu/spare/config"

// On Windows the daemon runs in a WSL distribution of Spare's own and the
// app reaches it through `spare bridge` (localapi/bridge.go).

// wslDistro is the distribution's name (`wsl.exe -d Spare`).
const wslDistro = "Spare"

// wslDataDir is the daemon's data directory inside the distribution.
const wslDataDir = "/var/lib/spare"

// bridgeArgv is the command the app starts for each connection to the
// daemon: wsl runs `spare bridge` inside the distribution.
func bridgeArgv(wsl, dataDir string) []string {
	return []string{wsl, "-d", wslDistro, "--", "spare", "bridge", "--data", dataDir}
}

// wslDaemonArgv starts the daemon inside the distribution when none runs;
// jobs use the distribution's own containerd.
func wslDaemonArgv(wsl, dataDir string) []string {
	return []string{wsl, "-d", wslDistro, "--", "spare", "node", "--data", dataDir, "--containerd", config.DefaultContainerdSocket}
}

// wslTerminateArgv ends everything running in the distribution.
func wslTerminateArgv(wsl string) []string {
	return []string{wsl, "--terminate", wslDistro}
}
