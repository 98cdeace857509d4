package app

import (
	"fmt"
	"strings"
	"time"

	"github.com/sparegpu/spare/assets"
	"github.com/sparegpu/spare/localapi"
)

// Details are what the app reads from the daemon besides its status:
// the wallet's figures, the GPU history and the current job. Amounts stay
// integers (localapi.Amount) until they are drawn.
type Details struct {
	Wallet    *localapi.Wallet // nil: not read yet
	WalletErr error
	Telemetry localapi.Telemetry
	Job       *localapi.Job // nil: no job
	// Household is the household's machines (nil: not read yet, or the
	// daemon runs without one: HouseholdErr says).
	Household    *localapi.Household
	HouseholdErr error
}

// View is everything the screens and the tray draw, derived from the
// daemon's status and details by one function. The UI holds no other
// state.
type View struct {
	Connected bool
	// Problem is why the app cannot show the daemon's state ("" when it can).
	Problem  string
	Icon     assets.TrayState
	State    localapi.State
	Sentence string
	// Brief is the tray's status line: the sentence to the minute.
	Brief string
	// Next says what happens next and when.
	Next      string
	Job       string
	JobFrozen bool
	// CurrentJob is the job's details (nil: none, or not read yet).
	CurrentJob *localapi.Job
	Devices    []localapi.Device
	GPUNote    string
	Telemetry  localapi.Telemetry
	// CanPause and CanResume enable the menu items.
	CanPause, CanResume bool
	// CanRetry offers Try again: first-run setup failed (Config.Setup).
	CanRetry    bool
	EarnedToday string
	// Wallet is the wallet's figures (nil: not read yet).
	Wallet   *localapi.Wallet
	MoneyErr string
	// Notice is the daemon's line for the owner (the playground's).
	Notice string
	// BelowCost says jobs were refused for paying less than the
	// electricity ("never work at a loss"); "" when none.
	BelowCost string
	// Network says which network the node is on, how money settles
	// there and how many Spare peers it knows ("" when the daemon does
	// not say: no p2p host).
	Network string
	// Reach says how other nodes reach this one and what the owner can
	// do, in a sentence ("" when the daemon does not say: no p2p host);
	// ReachWarn: only through a relay, so jobs are refused.
	Reach     string
	ReachWarn bool
	// Relay says whether this node relays for other nodes, in a sentence
	// ("" when the daemon does not say: no p2p host).
	Relay string
	// SensorNote and SessionNote say what the session lacks (no input
	// sensor, no tray), "" when nothing.
	SensorNote, SessionNote string
	// Household is the household's machines (nil: not read yet);
	// HouseholdNote says why there are none to show.
	Household     *localapi.Household
	HouseholdNote string
	// Now is when the view was derived (running times are drawn from it).
	Now time.Time
}

// StateDisconnected is the view's state while no daemon answers: the
// app's own word, beside the daemon's (localapi.State).
const StateDisconnected localapi.State = "Disconnected"

// Derive computes the view from the latest status. connErr is the error of
// the last attempt to reach the daemon (nil when the status is live).
func Derive(st localapi.Status, connErr error, d Details, now time.Time) View {
	v := View{Wallet: d.Wallet, Now: now, Household: d.Household}
	if d.HouseholdErr != nil {
		v.HouseholdNote = "The household is not available: " + d.HouseholdErr.Error()
	}
	if d.WalletErr != nil {
		v.MoneyErr = "Wallet figures unavailable: " + d.WalletErr.Error()
	}
	if d.Wallet != nil {
		v.EarnedToday = d.Wallet.Today.String()
	}
	if v, ok := setupView(v, connErr, now); ok {
		return v
	}
	if connErr != nil {
		v.Icon = assets.Problem
		v.State = StateDisconnected
		v.Sentence = "Not connected to the Spare daemon"
		v.Brief = v.Sentence
		v.Problem = connErr.Error()
		v.Next = "Spare keeps trying to reach it."
		v.EarnedToday = orDash(v.EarnedToday)
		return v
	}
	v.Connected = true
	v.State, v.Sentence, v.Brief, v.Job = st.State, st.Sentence, st.Brief, st.Job
	if v.Brief == "" { // a daemon from before the brief line
		v.Brief = v.Sentence
	}
	v.Devices, v.GPUNote, v.Telemetry, v.Notice, v.BelowCost = st.Devices, st.GPU, d.Telemetry, st.Notice, st.BelowCost
	v.Reach, v.ReachWarn = st.ReachLine(), st.RelayOnly()
	if line := st.NetworkLine(); line != "" {
		v.Network = "Network: " + line
	}
	v.Relay = st.RelayLine()
	if d.Job != nil && d.Job.ID == st.Job {
		v.CurrentJob = d.Job
	}
	if v.EarnedToday == "" {
		v.EarnedToday = st.EarnedToday
	}
	v.EarnedToday = orDash(v.EarnedToday)
	switch st.State {
	case localapi.StateRunning:
		v.Icon, v.CanPause = assets.Earning, true
		v.Next = "Earning now. The job freezes the moment you touch the mouse or keyboard."
	case localapi.StateFrozen:
		v.Icon, v.JobFrozen, v.CanPause = assets.Paused, true, true
		v.Next = "The job waits while you use the computer; step away and it carries on."
	case localapi.StatePaused:
		v.Icon, v.CanResume = assets.Paused, true
		if st.Until.IsZero() {
			v.Next = "No work until you choose Resume."
		} else {
			v.Next = "Sharing starts again at " + st.Until.Local().Format("Mon 15:04") + "."
		}
	case localapi.StateAvailable:
		v.Icon, v.CanPause = assets.Waiting, true
		v.Next = "Ready: a job can start as soon as a requester asks."
	case localapi.StateWaiting:
		v.Icon, v.CanPause = assets.Waiting, true
		if st.Reason.Problem() {
			v.Icon = assets.Problem
			v.Next = "Nothing will run until this is fixed."
		} else {
			v.Next = "Work starts on its own once this clears."
		}
	case localapi.StateDraining:
		v.Icon = assets.Waiting
		v.Next = "Spare is stopping."
	default:
		v.Icon = assets.Problem
		v.Next = "Nothing will run until this is fixed."
	}
	return v
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// TodayLine is the tray's earnings line.
func (v View) TodayLine() string { return "Earned today: " + v.EarnedToday + " " + unit }

// unit is the currency the wallet counts in.
const unit = "USDC"

// NotificationKind says which event a Notification announces; the app
// decides on it, never on the words shown.
type NotificationKind int

const (
	// FirstEarnings announces the first earnings ever made.
	FirstEarnings NotificationKind = iota + 1
	// JobFrozen says a running job froze because the person came back.
	JobFrozen
	// StoppedEarning says a problem now stops the node from earning.
	StoppedEarning
)

func (k NotificationKind) String() string {
	switch k {
	case FirstEarnings:
		return "FirstEarnings"
	case JobFrozen:
		return "JobFrozen"
	case StoppedEarning:
		return "StoppedEarning"
	}
	return fmt.Sprintf("NotificationKind(%d)", int(k))
}

// Notification is one message for the desktop's notification area.
type Notification struct {
	Kind        NotificationKind
	Title, Body string
}

// Notices compares two successive views and says what to tell the person:
// their first earnings, a job preempted (frozen or ended because they came
// back), a problem that stops earning. first is true until the
// first earnings were notified (Settings.FirstEarningsShown).
func Notices(prev, next View, first bool) []Notification {
	var out []Notification
	if first && isZeroAmount(prev.EarnedToday) && !isZeroAmount(next.EarnedToday) {
		out = append(out, firstEarnings(next))
	}
	if prev.State == localapi.StateRunning && next.State == localapi.StateFrozen {
		out = append(out, Notification{JobFrozen, "Job paused for you", "You came back, so the job froze. " + next.Sentence})
	}
	if prev.Icon != assets.Problem && next.Icon == assets.Problem {
		body := next.Sentence
		if next.Problem != "" {
			body += ": " + next.Problem
		}
		out = append(out, Notification{StoppedEarning, "Spare stopped earning", body})
	}
	return out
}

func firstEarnings(v View) Notification {
	return Notification{FirstEarnings, "Your first earnings", fmt.Sprintf("Spare earned %s %s today while you were away.", v.EarnedToday, unit)}
}

func isZeroAmount(s string) bool {
	return strings.Trim(s, "0.—") == ""
}
