// Package node is the provider daemon's core. It holds the governor: the
// state machine that decides when this computer may work for others and
// gives it back to its owner at once.
//
// The governor is one pure function, Decide, that computes the next Status
// and a list of Actions (freeze, thaw or end a job, publish or withdraw the
// capacity ad, notify a requester) from timestamped Inputs — presence,
// power, GPU telemetry, running jobs, user commands — Settings and a clock
// reading. Governor.Serve feeds events into it and carries out the actions
// through small interfaces (jobControl, adPublisher, preemptNotifier) that
// the sandbox and market implement. Tests replay recorded traces through
// Decide with a fake clock.
package node
