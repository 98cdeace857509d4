package app

import (
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"unsafe"

	"fyne.io/systray"
	"golang.org/x/sys/windows"
)

// runTrayLoop shows the notification-area icon, built by build, while
// body runs. Windows delivers the icon's messages to the thread that
// made its window: systray.Run makes it and runs the message loop here,
// on the main thread (systray locks it at init), and body runs beside it
// until it returns and ends the loop.
func runTrayLoop(build, body func(), stop func()) {
	ended := make(chan struct{})
	systray.Run(func() {
		build()
		go func() { // owned by runTrayLoop: it waits for ended
			defer close(ended)
			body()
			systray.Quit()
		}()
	}, nil)
	// The loop ends with body, or on its own: Windows' End task or the
	// session's end close the tray's window (WM_CLOSE). Then body is told
	// to end too, and the tray process goes on to stop the daemon.
	stop()
	<-ended
}

// windowProcAttr: the window process opens no console window.
func windowProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{HideWindow: true, CreationFlags: windows.CREATE_NO_WINDOW}
}

// trayJob is a job object that ends the processes in it when the tray
// process ends, as Pdeathsig does on Linux: a window left alone would
// show a daemon that nothing stops. Made on first use.
var trayJob = sync.OnceValues(func() (windows.Handle, error) {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return 0, fmt.Errorf("CreateJobObject: %w", err)
	}
	info := windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION{}
	info.BasicLimitInformation.LimitFlags = windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
	if _, err := windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info))); err != nil {
		windows.CloseHandle(job)
		return 0, fmt.Errorf("SetInformationJobObject: %w", err)
	}
	return job, nil // held until the process ends: its end closes it
})

// holdWindow puts the window process in trayJob.
func holdWindow(p *os.Process, log *slog.Logger) {
	err := func() error {
		job, err := trayJob()
		if err != nil {
			return err
		}
		h, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, uint32(p.Pid))
		if err != nil {
			return fmt.Errorf("OpenProcess: %w", err)
		}
		defer windows.CloseHandle(h)
		return windows.AssignProcessToJobObject(job, h)
	}()
	if err != nil {
		log.Warn("the window process would outlive a killed tray process", "err", err)
	}
}

var (
	user32                  = windows.NewLazySystemDLL("user32.dll")
	procShowWindow          = user32.NewProc("ShowWindow")
	procSetForegroundWindow = user32.NewProc("SetForegroundWindow")
	procPostMessage         = user32.NewProc("PostMessageW")
)

const (
	swRestore = 9      // ShowWindow: SW_RESTORE
	wmClose   = 0x0010 // WM_CLOSE
)

// topWindows are the visible top-level windows of process pid.
func topWindows(pid int) ([]windows.HWND, error) {
	var found []windows.HWND
	cb := syscall.NewCallback(func(h windows.HWND, _ uintptr) uintptr {
		var owner uint32
		if _, err := windows.GetWindowThreadProcessId(h, &owner); err == nil && int(owner) == pid && windows.IsWindowVisible(h) {
			found = append(found, h)
		}
		return 1 // go on
	})
	if err := windows.EnumWindows(cb, nil); err != nil {
		return nil, fmt.Errorf("EnumWindows: %w", err)
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("process %d shows no window (yet)", pid)
	}
	return found, nil
}

// raiseWindow shows and focuses the window process's window. Windows
// lets the tray process bring it to the front: the owner's click on the
// icon was its input.
func raiseWindow(p *os.Process) error {
	ws, err := topWindows(p.Pid)
	if err != nil {
		return err
	}
	for _, h := range ws {
		procShowWindow.Call(uintptr(h), swRestore)
		procSetForegroundWindow.Call(uintptr(h))
	}
	return nil
}

// askWindowToClose closes the window process's window (WM_CLOSE, as its
// close button): the window-only process then ends. Windows has no
// SIGTERM.
func askWindowToClose(p *os.Process) error {
	ws, err := topWindows(p.Pid)
	if err != nil {
		return err
	}
	var errs []error
	for _, h := range ws {
		if ok, _, err := procPostMessage.Call(uintptr(h), wmClose, 0, 0); ok == 0 {
			errs = append(errs, fmt.Errorf("PostMessage WM_CLOSE: %w", err))
		}
	}
	return errors.Join(errs...)
}

// notify shows a toast, as the toolkit does for the window app: through
// PowerShell and the Windows Runtime's toast API, in PowerShell's name
// (an app needs a Start-menu shortcut with its AppUserModelID for its
// own; the installer makes none yet).
func notify(title, body string, log *slog.Logger) {
	cmd := exec.Command("powershell.exe", "-NoProfile", "-NonInteractive", "-WindowStyle", "Hidden", "-Command", toastScript(title, body))
	cmd.SysProcAttr = windowProcAttr()
	if err := cmd.Start(); err != nil {
		log.Warn("notifying", "title", title, "err", err)
		return
	}
	go func() { // owned by the PowerShell process: ends with it
		if err := cmd.Wait(); err != nil {
			log.Warn("notifying", "title", title, "err", err)
		}
	}()
}

// powerShellAppID is the AppUserModelID toasts are shown under.
const powerShellAppID = `{1AC14E77-02E7-4E5D-B744-2EB1AE5198B7}\WindowsPowerShell\v1.0\powershell.exe`

// toastScript is the PowerShell that shows a toast of title and body:
// both XML-escaped into the toast, and the XML single-quoted for
// PowerShell.
func toastScript(title, body string) string {
	esc := func(s string) string {
		var b strings.Builder
		_ = xml.EscapeText(&b, []byte(s))
		return strings.ReplaceAll(b.String(), "'", "''")
	}
	return `[Windows.UI.Notifications.ToastNotificationManager, Windows.UI.Notifications, ContentType = WindowsRuntime] > $null
[Windows.Data.Xml.Dom.XmlDocument, Windows.Data.Xml.Dom.XmlDocument, ContentType = WindowsRuntime] > $null
$x = New-Object Windows.Data.Xml.Dom.XmlDocument
$x.LoadXml('<toast><visual><binding template="ToastGeneric"><text>` + esc(title) + `</text><text>` + esc(body) + `</text></binding></visual></toast>')
[Windows.UI.Notifications.ToastNotificationManager]::CreateToastNotifier('` + powerShellAppID + `').Show([Windows.UI.Notifications.ToastNotification]::new($x))`
}
