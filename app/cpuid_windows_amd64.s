#include "textflag.h"

// func cpuidECX1() uint32
TEXT ·cpuidECX1(SB),NOSPLIT,$0-4
	MOVL $1, AX
	XORL CX, CX
	CPUID
	MOVL CX, ret+0(FP)
	RET
