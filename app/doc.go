// Package app is Spare's desktop app: the tray icon and its menu, the
// window (status, GPU, current job, earnings, wallet, settings), first-run
// onboarding and notifications. It is also the session's presence sensor.
//
// The app renders state and sends commands, nothing more. It reads the
// daemon's status snapshot and event stream through the LocalAPI client,
// derives one View from it (Derive), and draws that View; a click becomes
// a LocalAPI call. Goroutines (the event stream, wallet refresh, presence,
// doctor checks) belong to App.Run's context and wait group, and touch
// widgets only inside fyne.Do.
//
// Temporary paths, until the LocalAPI serves them: wallet figures come
// through the WalletSource interface (cmd/spare wires the wallet package
// directly), and settings live in DATA/app-settings.json without being
// applied to a running daemon.
package app
