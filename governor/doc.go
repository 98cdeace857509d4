// Package governor decides when this computer may work for others and
// gives it back to its owner at once.
//
// The governor is one pure function, Decide, that computes the next
// Status (a Phase: the State with its reason, job and times; each
// device's standing) and a list of Actions (freeze, thaw or end a job,
// publish or withdraw the capacity ad, notify a requester) from
// timestamped Inputs — presence, power, GPU telemetry, running jobs,
// user commands — Settings and a clock reading. Governor.Serve feeds live
// events into it and carries out the actions through small interfaces
// (jobControl, adPublisher, preemptNotifier) that the daemon and the
// market implement. Tests replay recorded traces (testdata/*.jsonl)
// through Decide with a fake clock.
//
// A State's word and a Reason's code are the LocalAPI's (localapi.State,
// localapi.Reason); the sentences a person reads are written here
// (Phase.Sentence, Phase.Brief).
package governor
