// Package app is Spare's desktop app: the tray icon and its menu, the
// window (status, GPU, current job, earnings, wallet, settings), first-run
// onboarding and notifications. It is also the session's presence sensor.
//
// The app renders state and sends commands, nothing more. It reads the
// daemon's status snapshot and event stream through the LocalAPI client,
// derives one View from it (Derive), and draws that View; a click becomes
// a LocalAPI call. Goroutines (the event stream, the details reader,
// presence, doctor checks) belong to App.Run's context and wait group, and
// touch widgets only inside fyne.Do.
//
// Everything the window shows comes from the LocalAPI: the status and its
// event stream, the wallet's figures (GET /v1/wallet), GPU history
// (/v1/telemetry), the current job (/v1/job) and the owner's settings
// (/v1/settings); withdrawals and keystore exports are LocalAPI calls too.
// The details are read again when the event stream announces a change
// (Status.Event) and every Config.DetailsEvery. The app never opens the
// wallet or the ledger. Only its own choices (start at login, onboarding
// seen) live in DATA/app-settings.json.
package app
