// Package p2p is Spare's libp2p node: a persisted Ed25519 identity,
// TCP and QUIC with Noise and yamux, the resource and connection managers,
// AutoNAT, hole punching and circuit relay v2, discovery by mDNS and by a
// Kademlia DHT of Spare's own (protocol prefix DHTPrefix), capacity ads on
// GossipSub, and the blob protocol. It knows nothing of prices or jobs:
// package market speaks /spare/job/1.0.0 over streams from this host.
//
// # Lifetime
//
// New starts a Host; Serve blocks until its context ends and then closes
// it. Every goroutine the host starts ends in Close. The zero Config runs;
// tests use LoopbackOnly. libp2p's own logs go to the first host's slog
// handler at WARN and above (gossipsub's to each host's), except warnings
// that are routine for Spare (an empty DHT on a network of two, a peer
// gone before identify), which arrive at DEBUG.
//
// # Discovery
//
// Providers call Advertise(ctx, capability): a DHT provider record under
// CapabilityCID(capability) = CIDv1(raw, sha256("spare/cap/v1/" + capability)),
// renewed every ReprovideInterval. Requesters call FindProviders. Bootstrap
// nodes (Config.BootstrapNode, `spare bootstrap`) run the DHT in server mode,
// a circuit relay v2 service and AutoNAT; other hosts use the bootstrap
// peers as static relays. mDNS (service MDNSService) connects hosts on a LAN.
// A provider record is published a second time AdvertiseRetry after the
// first, and retried every AdvertiseRetry while publishing fails.
//
// # Meeting the network without a server of Spare's
//
// A host meets Spare nodes through its bootstrap peers, its address book
// (BookFile: the Spare peers it met, dialled at every start), mDNS and,
// with Config.Public, the public libp2p network: it joins the Amino DHT
// (kad-dht's default protocol) as a client through dht.DefaultBootstrapPeers
// (PublicBootstrapEnv replaces them in tests), publishes a provider record
// under RendezvousCID(name) = CIDv1(raw, sha256("spare/rendezvous/v1/" +
// name)), name "spare/public" or "spare/pool/<id>", and dials the Spare
// nodes a lookup names (at most 32 a lookup, every RendezvousLookup while
// fewer than RendezvousWant are connected). A private pool (Config.Pool,
// id = hex of the first 8 bytes of sha256("spare/pool/v1/" + name)) uses
// DHTPrefix + "/pool/<id>", AdsTopic + "/pool/<id>", mDNS service
// "_sp-<id[:10]>._udp" and the marker protocol "/spare/pool/<id>/1.0.0"
// (the public network's: "/spare/pool/public/1.0.0"); a peer that speaks
// a /spare/ protocol but not this network's marker is disconnected once it
// identifies (poolVerdict), and Config.AllowPeers narrows a pool to the
// listed peers.
//
// GossipSub finds other ads-topic subscribers through the same DHT, but
// each discovery round hands it only a random sample of them, dialling
// new ones only while fewer than AdsTopicPeers are connected, so N hosts
// hold O(N) connections and the mesh is a random graph rather than
// everyone linked to everyone.
//
// A provider behind a NAT is reached through its relay at first; DCUtR
// then upgrades the relayed connection to a direct one: the provider dials
// a public requester back, and two hosts both behind NATs punch a hole
// (QUIC). TestNATRelay shows both in network namespaces with masquerading
// routers. A host learns its public address from its QUIC connections (a
// TCP dial leaves from a fresh port), so bootstrap addresses should
// include the QUIC one that `spare bootstrap` prints.
//
// # Capacity ads (GossipSub topic "/spare/ads/1")
//
// A message's data is one Ad as a JSON object:
//
//	{"peer": "<peer ID>", "gpu_model": "...", "vram_mib": 12282, "cuda": "12.4",
//	 "cpus": 16, "ram_mib": 32768, "price_per_second": 42, "benchmark": 1000,
//	 "payee": "0x...", "caps": ["gpu:nvidia"],
//	 "issued_at": RFC 3339, "expires_at": RFC 3339, "seq": 1}
//
// Messages are signed by their author (StrictSign). The topic validator
// rejects — and so never forwards — a message larger than MaxAdSize, one
// that does not decode, one whose signer is not "peer", one expired or
// issued more than MaxClockSkew ahead, one living longer than
// MaxAdLifetime, and one beyond the author's rate (token bucket: one per
// AdInterval, burst AdBurst). A seq not above the last accepted from that
// author is ignored (replays). Unknown JSON fields are allowed, so fields
// may be added.
//
// An ad travels over the mesh only (no flood publishing; a sparser mesh
// than GossipSub's default, see adsGossipParams), so one ad costs each
// host a few copies whatever the network's size; PublishAd waits at
// most AdMeshWait for a first mesh peer when peers are connected but none
// is grafted yet. Providers republish every AdRepublish and ads live
// DefaultAdLifetime. GossipSub sends an ad to the mesh of the moment and
// gossips it only outside the mesh, so a peer grafted just after an ad
// went out would hear it only at the next round: each host hands its own
// live ad to every peer newly in its ads mesh (AdPushProtocol, one
// frame, judged like a gossiped ad). A requester does not wait for a round: it finds
// providers in the DHT and asks each for its current ad (package market,
// /spare/ad/1.0.0). AdTraffic and AdTrafficSent count the GossipSub bytes.
//
// A host off the topic (Config.PullAds) asks volunteers instead: hosts on
// the topic whose owner lets them relay answer "the ads of class X" in
// one frame (AdBatchProtocol, VolunteerAds), each ad the GossipSub
// message its provider signed, which the asker checks as a gossiped ad
// after the topic and the signature (QueryAdBatch, BatchAds).
//
// # Stream framing
//
// Every stream protocol uses the frames of package wire: a uvarint length,
// then uvarint type, uvarint version and the payload; a per-protocol size
// cap checked before reading; type 0x7f reserved for a refusal
// {"code", "reason"}. Streams carry deadlines; handlers reset the stream on
// error and close it on success.
//
// # /spare/blob/1.0.0
//
// Content-addressed transfer of images, inputs and outputs. All messages
// are version 1:
//
//	client → server  type 1 get     payload = sha256 digest (32 bytes) || uvarint offset
//	server → client  type 2 header  payload = uvarint total size of the blob
//	server → client  type 3 data    payload = 1..BlobChunkSize bytes, repeated until
//	                                          size - offset bytes were sent
//	server → client  type 0x7f      refusal; codes not_found, bad_request,
//	                                bad_offset (offset > size), internal
//
// The request frame is capped at 64 bytes, other frames at BlobChunkSize+32.
// The stream deadline moves BlobIdleTimeout ahead after every frame. The
// client writes to DST.partial, resumes from its length, refuses a blob
// above its MaxSize, hashes the whole file at the end and deletes it on a
// digest mismatch.
//
// A host serves a blob only to the peers it granted it to (GrantBlob, for
// a time; at most MaxBlobGrants kept): a requester grants the provider it
// agrees with its image and inputs, a provider grants the job's requester
// its outputs. To anyone else the answer is not_found, as for a blob the
// host does not hold. Several sources (ServeBlobs) are served side by side.
//
// # /spare/dup/1.0.0
//
// One frame, type 1 version 1, payload a JSON array of
// {"instance", "addr"}: a peer telling this host its identity was seen from
// several processes at once (see dup.go for what that detects).
//
// # /spare/job/1.0.0
//
// Declared here (JobProtocol), resource-limited here (MaxJobStreams,
// MaxJobStreamsPerPeer), spoken by package market with wire frames.
package p2p
