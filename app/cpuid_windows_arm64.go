package app

// hypervisorPresent: Windows on Arm has no CPUID; the firmware flag decides.
func hypervisorPresent() bool { return false }
