package presence

import (
	"context"
	"fmt"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	user32                   = windows.NewLazySystemDLL("user32.dll")
	kernel32                 = windows.NewLazySystemDLL("kernel32.dll")
	procGetLastInputInfo     = user32.NewProc("GetLastInputInfo")
	procGetForegroundWindow  = user32.NewProc("GetForegroundWindow")
	procGetWindowRect        = user32.NewProc("GetWindowRect")
	procMonitorFromWindow    = user32.NewProc("MonitorFromWindow")
	procGetMonitorInfoW      = user32.NewProc("GetMonitorInfoW")
	procGetShellWindow       = user32.NewProc("GetShellWindow")
	procGetDesktopWindow     = user32.NewProc("GetDesktopWindow")
	procGetWindowTextW       = user32.NewProc("GetWindowTextW")
	procGetWindowThreadPID   = user32.NewProc("GetWindowThreadProcessId")
	procGetTickCount         = kernel32.NewProc("GetTickCount")
	procGetSystemPowerStatus = kernel32.NewProc("GetSystemPowerStatus")
)

type lastInputInfo struct {
	cbSize uint32
	dwTime uint32
}

type rect struct{ left, top, right, bottom int32 }

type monitorInfo struct {
	cbSize    uint32
	rcMonitor rect
	rcWork    rect
	dwFlags   uint32
}

type systemPowerStatus struct {
	acLineStatus        byte
	batteryFlag         byte
	batteryLifePercent  byte
	systemStatusFlag    byte
	batteryLifeTime     uint32
	batteryFullLifeTime uint32
}

// windowsSensor uses GetLastInputInfo and the foreground window.
type windowsSensor struct{}

var _ sensor = windowsSensor{}

func newSensor(context.Context, Options) (sensor, error) {
	if err := procGetLastInputInfo.Find(); err != nil {
		return nil, fmt.Errorf("%w: GetLastInputInfo: %v", ErrUnsupported, err)
	}
	return windowsSensor{}, nil
}

func (windowsSensor) idle(context.Context) (time.Duration, bool, error) {
	li := lastInputInfo{cbSize: uint32(unsafe.Sizeof(lastInputInfo{}))}
	if r, _, err := procGetLastInputInfo.Call(uintptr(unsafe.Pointer(&li))); r == 0 {
		return 0, false, fmt.Errorf("GetLastInputInfo: %w", err)
	}
	tick, _, _ := procGetTickCount.Call()
	// Both are 32-bit millisecond counters; the subtraction wraps correctly.
	return time.Duration(uint32(tick)-li.dwTime) * time.Millisecond, true, nil
}

func (windowsSensor) session(context.Context) (sessionInfo, error) {
	var si sessionInfo
	hwnd, _, _ := procGetForegroundWindow.Call()
	if hwnd == 0 {
		return si, nil
	}
	shell, _, _ := procGetShellWindow.Call()
	desk, _, _ := procGetDesktopWindow.Call()
	if hwnd == shell || hwnd == desk {
		return si, nil
	}
	var wr rect
	if r, _, _ := procGetWindowRect.Call(hwnd, uintptr(unsafe.Pointer(&wr))); r == 0 {
		return si, nil
	}
	const monitorDefaultToNearest = 2
	mon, _, _ := procMonitorFromWindow.Call(hwnd, monitorDefaultToNearest)
	mi := monitorInfo{cbSize: uint32(unsafe.Sizeof(monitorInfo{}))}
	if r, _, _ := procGetMonitorInfoW.Call(mon, uintptr(unsafe.Pointer(&mi))); r == 0 {
		return si, nil
	}
	m := mi.rcMonitor
	if wr.left > m.left || wr.top > m.top || wr.right < m.right || wr.bottom < m.bottom {
		return si, nil
	}
	buf := make([]uint16, 256)
	n, _, _ := procGetWindowTextW.Call(hwnd, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
	si.fullscreen = "a fullscreen window"
	if n > 0 {
		si.fullscreen = windows.UTF16ToString(buf[:n])
	}
	var pid uint32
	procGetWindowThreadPID.Call(hwnd, uintptr(unsafe.Pointer(&pid)))
	si.fullscreenPID = pid
	return si, nil
}

func (windowsSensor) name() string { return "win32" }
func (windowsSensor) close() error { return nil }

func readPower(string) (Power, error) {
	var s systemPowerStatus
	if r, _, err := procGetSystemPowerStatus.Call(uintptr(unsafe.Pointer(&s))); r == 0 {
		return Power{Charge: -1}, fmt.Errorf("GetSystemPowerStatus: %w", err)
	}
	p := Power{Known: s.acLineStatus != 255, OnBattery: s.acLineStatus == 0, Charge: -1}
	const noBattery = 128
	if s.batteryFlag&noBattery == 0 && s.batteryLifePercent <= 100 {
		p.Charge = int(s.batteryLifePercent)
	}
	return p, nil
}

// ReadPower reads the power source now.
func ReadPower() (Power, error) { return readPower("") }
