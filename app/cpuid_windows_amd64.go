package app

// cpuidECX1 returns ECX of CPUID leaf 1.
func cpuidECX1() uint32

// hypervisorPresent reports CPUID's hypervisor bit: Windows runs on
// Hyper-V (as it does once WSL2 or virtualisation-based security is on).
func hypervisorPresent() bool { return cpuidECX1()&(1<<31) != 0 }
