#include "textflag.h"

// func int80(trap uintptr) uintptr
// Makes a 32-bit (i386) system call through INT 0x80 and returns EAX.
TEXT ·int80(SB),NOSPLIT,$0-16
	MOVQ	trap+0(FP), AX
	BYTE	$0xCD; BYTE $0x80 // INT $0x80
	MOVQ	AX, ret+8(FP)
	RET
