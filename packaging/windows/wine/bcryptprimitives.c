/*
 * Test scaffolding for Wine 8.0 only, never shipped: Go 1.22 and newer
 * read random bytes through bcryptprimitives.dll's ProcessPrng, which
 * every Windows 10/11 has and Wine 8.0 lacks, so a Go program dies
 * there before main. This DLL exports ProcessPrng over RtlGenRandom
 * (advapi32's SystemFunction036). The Wine tests build it with the same
 * MinGW compiler as spare.exe and put it in their own Wine prefix.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size)
{
	while (size > 0) {
		ULONG n = size > 0x40000000 ? 0x40000000 : (ULONG)size;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		size -= n;
	}
	return TRUE;
}
