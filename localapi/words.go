package localapi

// The words of the status: the governor's states and the reasons behind
// them. They are declared here, beside the contract they travel in, and
// used by the daemon that says them and the clients that read them.

// State is the governor's state as the LocalAPI says it.
type State string

// The governor's states (DESIGN.md, section Governor).
const (
	StateOff       State = "Off"       // switched off or no usable GPU
	StatePaused    State = "Paused"    // the owner paused sharing
	StateWaiting   State = "Waiting"   // allowed in principle, held back for a reason
	StateAvailable State = "Available" // advertising free GPUs, accepting work
	StateRunning   State = "Running"   // a job runs
	StateFrozen    State = "Frozen"    // a job is frozen because the owner came back
	StateDraining  State = "Draining"  // ending jobs before the daemon stops
)

// States lists every state, in the governor's order.
var States = []State{StateOff, StatePaused, StateWaiting, StateAvailable, StateRunning, StateFrozen, StateDraining}

// Working reports whether a job holds the machine (Running or Frozen).
func (s State) Working() bool { return s == StateRunning || s == StateFrozen }

// Reason is the stable code for why the governor holds back, freezes or
// ends work ("" when nothing holds it back).
type Reason string

// Reasons. Their wording for a person is the governor's (Status.Sentence).
const (
	ReasonNone        Reason = ""
	ReasonActive      Reason = "active"       // recent keyboard/mouse input
	ReasonSilent      Reason = "silent"       // no word from the presence sensor
	ReasonIdleUnknown Reason = "idle-unknown" // the sensor cannot read input idle time
	ReasonSleeping    Reason = "sleeping"     // the computer is suspending
	ReasonGame        Reason = "game"         // a game or fullscreen program
	ReasonForeignGPU  Reason = "foreign-gpu"  // another program uses the GPU
	ReasonBattery     Reason = "battery"      // running on battery
	ReasonCharge      Reason = "charge"       // battery below the charge floor
	ReasonHot         Reason = "hot"          // GPU at or above the temperature limit
	ReasonSchedule    Reason = "schedule"     // outside the schedule
	ReasonNoGPU       Reason = "no-gpu"       // no GPU telemetry (yet, or stale)
	ReasonPaused      Reason = "paused"       // the owner paused
	ReasonDraining    Reason = "draining"     // the daemon is stopping
	ReasonOff         Reason = "off"          // switched off
	ReasonRuntime     Reason = "runtime"      // the container runtime (containerd) does not answer
)

// Reasons lists every reason but ReasonNone.
var Reasons = []Reason{ReasonActive, ReasonSilent, ReasonIdleUnknown, ReasonSleeping, ReasonGame, ReasonForeignGPU,
	ReasonBattery, ReasonCharge, ReasonHot, ReasonSchedule, ReasonNoGPU, ReasonPaused, ReasonDraining, ReasonOff, ReasonRuntime}

// Problem reports whether the reason stops earning until something is
// fixed (a hot GPU, a silent sensor), as opposed to the owner simply
// being here or a rule the owner set.
func (r Reason) Problem() bool {
	switch r {
	case ReasonHot, ReasonNoGPU, ReasonSilent, ReasonIdleUnknown, ReasonForeignGPU, ReasonOff, ReasonRuntime:
		return true
	}
	return false
}

// Event says what a copy of the status on the event stream announces.
type Event string

// Events announced on the event stream besides state changes.
const (
	EventState    Event = ""         // the governor's state changed
	EventWallet   Event = "wallet"   // a voucher, a withdrawal: refetch the wallet
	EventSettings Event = "settings" // refetch the settings
	EventJob      Event = "job"      // the current job started, froze, thawed or ended
)

// Code is an error's stable code (Error.Code): what a client decides on.
// The message beside it is for a person.
type Code string

// Error codes.
const (
	CodeBadRequest Code = "bad_request" // the request is malformed or a value is out of range
	CodeInvalid    Code = "invalid"     // a field is wrong; Error.Field names it
	CodeForbidden  Code = "forbidden"   // the caller may not use this route (POST /v1/jobs: another user)
	CodeBusy       Code = "busy"        // too much at once; try again later
	CodeStopping   Code = "stopping"    // the daemon is stopping
	CodeInternal   Code = "internal"    // the daemon failed; its log says more
	// Access (Level): HTTP 403.
	CodeNeedsOwner Code = "needs_owner"        // a LevelAdmin route from a caller who is not an owner; the message says how to become one
	CodeNotSession Code = "not_active_session" // presence from a user not at the screen (logind's active session), or, without logind, not an owner
	// The wallet routes'.
	CodeBadPass      Code = "bad_passphrase" // the passphrase does not unlock the key
	CodeInsufficient Code = "insufficient"   // more than what is settled and not paid out
	CodeNoWallet     Code = "no_wallet"      // the daemon runs without a wallet
	CodeTooManyTries Code = "too_many_tries" // wrong passphrases: none is tried before Error.RetryAt (HTTP 429)
	// A submitted job's result's (SubmitEvent.Error).
	CodeNoProvider  Code = "no_provider"       // no provider could run the job
	CodeDisagree    Code = "replicas_disagree" // replicas gave different results with no majority
	CodeNoRequester Code = "no_requester"      // the daemon does not run jobs for its user
	CodeFailed      Code = "failed"            // the job could not run for another reason
	CodeCancelled   Code = "cancelled"         // the caller went away or the daemon stopped
)

// Level is what a caller of the LocalAPI may do. Anyone who can open the
// socket (its owner, root, members of the "spare" group) reads and
// operates; owners administer.
type Level string

// Levels, each including the ones before it.
const (
	// LevelRead: status, events, wallet figures, settings, telemetry, the
	// current job, metrics.
	LevelRead Level = "read"
	// LevelOperate: pause and resume.
	LevelOperate Level = "operate"
	// LevelAdmin: change settings, withdraw, export the key, submit jobs.
	// Owners only: root, the daemon's own user, and the users listed in
	// DATA/owners (OwnersFile).
	LevelAdmin Level = "admin"
)

// OwnersFile names the file in the data directory that lists the owners
// besides root and the daemon's own user: one user a line, by name or
// numeric ID, "#" starting a comment. The packages' installer records
// the person who installed Spare there; `spare node --owner USER` adds
// one. The daemon ignores the file unless root or the daemon's user owns
// it and nobody else may write it.
const OwnersFile = "owners"
