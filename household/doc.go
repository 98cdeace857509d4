// Package household lets the Spare machines of one household see and
// command each other on the LAN: the app shows every machine's name,
// state and earnings today, and pauses or resumes any of them.
//
// A machine belongs to another's household when it proves it holds the
// same payee key (a hello signed by the wallet key over both peer IDs and
// the time), or when the owner paired the two once with a short code shown
// on one and typed on the other (consent to commands is given there, on
// both machines). Membership is by peer ID, authenticated by libp2p's
// secure channel, never by address. Commands are signed with the sender's
// peer key over the target, the operation, a nonce and the time: a command
// out of its time window or seen before is refused.
//
// The protocol (ProtocolID) is one request and one answer per stream,
// JSON, each at most MaxMessage bytes, every field checked at the edge.
package household
