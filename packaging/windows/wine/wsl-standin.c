/*
 * Test scaffolding for Wine only, never shipped: stands in for wsl.exe,
 * which Wine lacks. It appends its command line to C:\wsl-calls.txt and
 * answers like a PC where WSL is not installed yet (`--status` fails)
 * but the uninstaller's commands (copy the wallet out, unregister the
 * distribution) succeed, so the installer tests see what it runs.
 */
#include <windows.h>
#include <wchar.h>

int wmain(void)
{
	const wchar_t *line = GetCommandLineW();
	HANDLE f = CreateFileW(L"C:\\wsl-calls.txt", FILE_APPEND_DATA, FILE_SHARE_READ, NULL, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
	if (f != INVALID_HANDLE_VALUE) {
		char buf[4096];
		int n = WideCharToMultiByte(CP_UTF8, 0, line, -1, buf, sizeof buf - 2, NULL, NULL);
		if (n > 0) {
			DWORD w;
			buf[n - 1] = '\n';
			WriteFile(f, buf, (DWORD)n, &w, NULL);
		}
		CloseHandle(f);
	}
	return wcsstr(line, L"--status") ? 1 : 0;
}
