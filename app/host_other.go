//go:build !windows

package app

import "context"

// CheckHost: Spare runs natively on Linux, where `spare doctor` and the
// onboarding checks say what is missing; only Windows needs WSL2.
func CheckHost(context.Context) []HostProblem { return nil }
