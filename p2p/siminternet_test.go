package p2p

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/observedaddrs"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/sparegpu/spare/internal/simnet"
	"github.com/sparegpu/spare/internal/testenv"
)

// Environment of TestSimInternet's helper processes.
const (
	simRole = "SPARE_P2P_SIM_ROLE" // amino, relay, provider or requester
	simData = "SPARE_P2P_SIM_DATA" // the child's data directory
	simPool = "SPARE_P2P_SIM_POOL"
	// simPeers are the Amino servers an Amino server connects to.
	simPeers = "SPARE_P2P_SIM_PEERS"
	// simRuns, in `make bench`, repeats the discovery of a fresh provider
	// and reports the median time (scripts/bench.sh).
	simRuns = "SPARE_BENCH_SIM_RUNS"
	// simProto stands in for the job protocol on a provider: its handler
	// answers whether the stream came over a relayed connection.
	simProto = JobProtocol
	// simTimeout bounds the whole world and each wait in it.
	simTimeout = 4 * time.Minute
	// simJobWait bounds how long a requester waits for hole punching to
	// give a direct connection before the job is refused.
	simJobWait = 45 * time.Second
)

// NAT types of the simulated internet's home routers.
const (
	natFullCone       = simnet.FullCone
	natPortRestricted = simnet.PortRestricted
	natSymmetric      = simnet.Symmetric
)

// TestSimInternet builds a small internet in network namespaces and runs
// Spare hosts in it as separate processes of this test binary, each
// knowing only the simulated public network's bootstrap peers
// (PublicBootstrapEnv):
//
//	pub: the backbone, 11.n.0.1 for each site n; hosts with public
//	     addresses 11.n.0.2 hang off it: 3 Amino DHT servers (95-97:
//	     plain kad-dht with AutoNAT service, as public IPFS nodes run),
//	     a Spare node whose owner allows relaying (90, Config.Relay), a
//	     pool's provider (91) and the pool's relay (92)
//	site 81, full-cone NAT:       provider
//	site 82, port-restricted NAT: provider
//	site 83, symmetric NAT:       provider
//	site 84, port-restricted NAT: requester
//
// Each site is 192.168.n.2 behind a router 192.168.n.1 | 11.n.0.2; no
// route leads out of these namespaces. The requester finds each provider
// through the rendezvous and Spare's DHT and opens a job stream, which
// must run on a direct connection (hole punched behind the NATs) or be
// refused with ErrRelayOnly (symmetric NAT, whose provider then reports
// itself relay-only). Then the public bootstrap peers go and a restarted
// requester finds its peers from its address book; a pool beside the
// public network never sees its ads.
func TestSimInternet(t *testing.T) {
	if role := os.Getenv(simRole); role != "" {
		simChild(t, role)
		return
	}
	w := simnet.New(t, "spsim")
	sites := map[simnet.NAT]string{
		natFullCone:       w.NATSite(81, natFullCone),
		natPortRestricted: w.NATSite(82, natPortRestricted),
		natSymmetric:      w.NATSite(83, natSymmetric),
	}
	reqSite := w.NATSite(84, natPortRestricted)
	// The relay has a public address of its own: AutoNAT servers do not
	// check a peer that shares their address.
	relaySite := w.PublicSite(90)

	runs, _ := strconv.Atoi(os.Getenv(simRuns))
	ctx, cancel := context.WithTimeout(context.Background(), simTimeout+time.Duration(max(runs, 0))*3*simJobWait*2)
	defer cancel()
	// Three Amino DHT servers, each with an address of its own (AutoNAT
	// v2 wants confirmations from servers at distinct addresses).
	var aminos []*simProc
	var aminoAddrs []string
	for i := range 3 {
		a := startSim(ctx, t, w.PublicSite(95+i), "amino", fmt.Sprintf("amino %d", i), simPeers+"="+strings.Join(aminoAddrs, " "))
		aminoAddrs = append(aminoAddrs, a.want(t, "AMINO")...)
		aminos = append(aminos, a)
	}
	env := []string{PublicBootstrapEnv + "=" + strings.Join(aminoAddrs, " ")}
	relay := startSim(ctx, t, relaySite, "relay", "relay", env...)
	relayID := relay.want(t, "RELAY")[0]

	reqData := t.TempDir()
	req := startSim(ctx, t, reqSite, "requester", "requester", append(env, simData+"="+reqData)...)
	req.want(t, "STARTED")
	provs := map[simnet.NAT]*simProc{}
	provIDs := map[simnet.NAT]string{}
	for _, nat := range []simnet.NAT{natFullCone, natPortRestricted, natSymmetric} {
		provs[nat] = startSim(ctx, t, sites[nat], "provider", "provider "+string(nat), env...)
	}
	for nat, p := range provs {
		// Each waits up to simTimeout for a relay reservation (autorelay
		// asks for candidates again only every 30 s), so wait as long.
		provIDs[nat] = p.wantWithin(t, "READY", simTimeout)[0]
	}

	for _, c := range []struct {
		nat  simnet.NAT
		want string
	}{
		{natFullCone, "direct"}, {natPortRestricted, "direct"}, {natSymmetric, "refused"},
	} {
		t.Run("job with a provider behind a "+string(c.nat)+" NAT", func(t *testing.T) {
			pid := provIDs[c.nat]
			req.say(t, "find", pid)
			found := req.want(t, "FOUND")
			t.Logf("requester found the %s provider in %s ms over %s", c.nat, found[1], found[2])
			req.say(t, "job", pid)
			res := req.want(t, "JOB")
			t.Logf("job stream with the %s provider: %s", c.nat, strings.Join(res, " "))
			switch c.want {
			case "direct":
				if res[1] != "ok" || res[2] != "limited=false" {
					t.Fatalf("the job stream did not run on a direct connection: %v", res)
				}
				// Found through a relay, the direct connection is DCUtR's
				// upgrade, which the requester counts. (Found directly, as
				// is usual here, no punch ran: a full-cone NAT forwards
				// anything, and behind port-restricted NATs the two nodes'
				// dials to each other's observed addresses, from their
				// listening ports, crossed and opened both.)
				if ok, _, err := punchCounts(res[4]); err != nil || found[2] == "relay" && ok < 1 {
					t.Errorf("found through a relay and then direct, but no hole punch counted: %s (%v)", res[4], err)
				}

			case "refused":
				if res[1] != "refused" || res[2] != "relay-only" {
					t.Fatalf("want the job refused as relay-only, got %v", res)
				}
				// Refused as soon as the hole punches failed (their end
				// events), not when the dial timeout (simJobWait) ran out.
				fails, err := strconv.Atoi(strings.TrimPrefix(res[3], "punch-fails="))
				if err != nil || fails < PunchAttempts || res[4] != "timeout=false" {
					t.Fatalf("want the job refused after %d failed hole punches, before the dial timeout: %v", PunchAttempts, res)
				}
				t.Logf("refused %s into a dial timeout of %s", strings.TrimPrefix(res[5], "after="), simJobWait)
				// The requester's hole punch count has the failures.
				if _, failed, err := punchCounts(res[6]); err != nil || failed < 1 {
					t.Errorf("want the failed hole punches counted, got %s (%v)", res[6], err)
				}
				provs[c.nat].say(t, "reach", "relay-only")
				reach := provs[c.nat].want(t, "REACH")
				hint := strings.Join(reach[1:], " ")
				t.Logf("the symmetric NAT's provider says: %s: %s", reach[0], hint)
				if !strings.Contains(hint, "symmetric NAT") || !strings.Contains(hint, "forward a port") {
					t.Errorf("the provider's status does not say why or what to do: %q", hint)
				}
			}
		})
	}

	t.Run("relaying is the owner's choice", func(t *testing.T) {
		// A Spare node with a public address whose owner did not allow
		// relaying: once AutoNAT finds it public, it still serves none.
		other := startSim(ctx, t, relaySite, "public", "public node, relaying not allowed", env...)
		res := other.want(t, "PUBLIC")
		if res[0] != "relay-serving=false" {
			t.Errorf("a node whose owner did not allow relaying serves as a relay: %v", res)
		}
	})

	t.Run("a pool beside the public network", func(t *testing.T) {
		// The pool's own public node (its relay and DHT server: the
		// public network's relay is of another network, so the pool's
		// nodes cut it off), then its provider with a public address.
		poolEnv := append(env, simPool+"=studio")
		startSim(ctx, t, w.PublicSite(92), "relay", "pool relay", poolEnv...).want(t, "RELAY")
		poolProv := startSim(ctx, t, w.PublicSite(91), "provider", "pool provider", poolEnv...)
		poolProvID := poolProv.wantWithin(t, "READY", simTimeout)[0]
		poolReq := startSim(ctx, t, reqSite, "requester", "pool requester", append(poolEnv, simData+"="+t.TempDir())...)
		poolReq.want(t, "STARTED")
		poolReq.say(t, "find", poolProvID)
		poolReq.want(t, "FOUND")
		// Each provider publishes again now, as the pool's requester
		// joins the pool's ads mesh: GossipSub sends an ad only to the
		// mesh of the moment, so one published just before the requester
		// is grafted reaches it by AdPushProtocol (the provider's own
		// ad, handed to each new mesh peer), not minutes later at the
		// next round.
		poolProv.say(t, "publish", "-")
		poolProv.want(t, "PUBLISHED")
		provs[natPortRestricted].say(t, "publish", "-")
		provs[natPortRestricted].want(t, "PUBLISHED")
		req.say(t, "hasad", provIDs[natPortRestricted])
		req.want(t, "HASAD")
		// The pool's requester, behind its NAT, gets the pool's ads
		// (red before AdPushProtocol: it held none).
		poolReq.say(t, "hasad", poolProvID)
		poolReq.want(t, "HASAD")
		for _, c := range []struct {
			who    *simProc
			others []string
		}{
			{req, []string{poolProvID}},
			{poolReq, []string{relayID, provIDs[natFullCone], provIDs[natPortRestricted], provIDs[natSymmetric]}},
		} {
			for _, o := range c.others {
				c.who.say(t, "isconn", o)
				if res := c.who.want(t, "ISCONN"); res[1] != "false" {
					t.Errorf("%s is connected to %s, of another network", c.who.name, o)
				}
			}
			c.who.say(t, "ads", "-")
			held := c.who.want(t, "ADS")
			t.Logf("%s holds the ads of %v", c.who.name, held)
			for _, o := range c.others {
				if slices.Contains(held, o) {
					t.Errorf("%s holds the ad of %s, of another network", c.who.name, o)
				}
			}
		}
	})

	simBench(ctx, t, sites, reqSite, env)

	t.Run("restart without the public bootstrap peers", func(t *testing.T) {
		for _, a := range aminos {
			a.stop(t)
		}
		req.stop(t)
		again := startSim(ctx, t, reqSite, "requester", "requester again", append(env, simData+"="+reqData)...)
		again.want(t, "STARTED")
		for _, p := range []string{relayID, provIDs[natPortRestricted]} {
			again.say(t, "connected", p)
			again.want(t, "CONNECTED")
		}
	})
}

// simProc is a helper process of TestSimInternet: it reads commands on
// its standard input and prints KEY lines.
type simProc struct {
	natProc
	stdin io.WriteCloser
	done  chan struct{}
	cmd   *exec.Cmd
}

func startSim(ctx context.Context, t *testing.T, ns, role, name string, env ...string) *simProc {
	t.Helper()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, os.Args[0], "-test.run=^TestSimInternet$", "-test.v", "-test.count=1")
	cmd.Env = append(append(os.Environ(), simRole+"="+role), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &simProc{natProc: natProc{lines: make(chan []string, 64), name: name}, stdin: stdin, done: make(chan struct{}), cmd: cmd}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			logs.Write([]byte(sc.Text() + "\n"))
			if f := strings.Fields(sc.Text()); len(f) > 0 && strings.ToUpper(f[0]) == f[0] && f[0] != "---" && f[0] != "PASS" && f[0] != "FAIL" {
				p.lines <- f
			}
		}
		close(p.lines)
	}()
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("%s output:\n%s", name, logs.String())
		}
	})
	return p
}

func (p *simProc) say(t *testing.T, words ...string) {
	t.Helper()
	if _, err := fmt.Fprintln(p.stdin, strings.Join(words, " ")); err != nil {
		t.Fatalf("telling %s %v: %v", p.name, words, err)
	}
}

// stop closes the child's input (it closes its host and exits) and
// waits for it, killing it only when it does not exit.
func (p *simProc) stop(t *testing.T) {
	_ = p.stdin.Close()
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		t.Errorf("%s did not exit after its input closed", p.name)
		_ = p.cmd.Process.Kill() // our own child, by its PID
		<-p.done
	}
}

// simChild is one helper process of TestSimInternet.
func simChild(t *testing.T, role string) {
	// An observed address is believed once this many distinct observers
	// (told apart by IP) have reported it; every public host here shares
	// the pub namespace's addresses, so there is one observer.
	observedaddrs.ActivationThresh = 1
	ctx, cancel := context.WithTimeout(context.Background(), simTimeout)
	defer cancel()
	if role == "amino" {
		simAmino(ctx, t)
		return
	}
	listen, _ := ParseMultiaddrs(DefaultListen)
	cfg := Config{Listen: listen, NoMDNS: true, NoPortMap: true, Public: true, Logger: testLogger,
		DataDir: os.Getenv(simData), Pool: os.Getenv(simPool), Relay: role == "relay"}
	start := time.Now()
	h, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	switch role {
	case "relay":
		testenv.WaitFor(t, "the relay service running (AutoNAT found this host public)", simTimeout, h.RelayServing)
		fmt.Printf("RELAY %s\n", h.ID())
	case "provider":
		simProvide(ctx, t, h)
	case "requester":
		fmt.Printf("STARTED %s\n", h.ID())
	case "public":
		testenv.WaitFor(t, "AutoNAT found this host public", simTimeout, func() bool { return h.Reachability().Reach == ReachDirect })
		fmt.Printf("PUBLIC relay-serving=%v\n", h.RelayServing())
	}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			t.Fatalf("bad command %q", sc.Text())
		}
		p, err := peer.Decode(f[1])
		switch f[0] {
		case "hasad":
			testenv.WaitFor(t, "the ad of "+f[1], simTimeout, func() bool {
				return slices.ContainsFunc(h.CurrentAds(), func(a Ad) bool { return a.Peer == p })
			})
			fmt.Printf("HASAD %s\n", p)
		case "isconn":
			fmt.Printf("ISCONN %s %v\n", p, h.LibP2P().Network().Connectedness(p) != network.NotConnected)
		case "publish":
			if err := h.PublishAd(ctx, testAd("", time.Time{}, 0)); err != nil {
				t.Fatal(err)
			}
			fmt.Println("PUBLISHED")
		case "ads":
			var ids []string
			for _, a := range h.CurrentAds() {
				ids = append(ids, a.Peer.String())
			}
			fmt.Printf("ADS %s\n", strings.Join(ids, " "))
		case "find":
			simFind(ctx, t, h, p, start)
		case "job":
			simJob(ctx, h, p)
		case "connected":
			testenv.WaitFor(t, "connected to "+f[1], simTimeout, func() bool {
				return h.LibP2P().Network().Connectedness(p) != network.NotConnected
			})
			fmt.Printf("CONNECTED %s\n", p)
		case "reach":
			testenv.WaitFor(t, "reachability "+f[1], simTimeout, func() bool { return string(h.Reachability().Reach) == f[1] })
			r := h.Reachability()
			fmt.Printf("REACH %s %s\n", r.Reach, r.Hint)
		default:
			t.Fatalf("unknown command %q (%v)", f[0], err)
		}
	}
}

// simAmino runs one server of the simulated public network: a plain
// libp2p host serving the Amino DHT with AutoNAT service, connected to
// the servers before it (simPeers).
func simAmino(ctx context.Context, t *testing.T) {
	h, err := libp2p.New(libp2p.ListenAddrStrings(DefaultListen...), libp2p.DisableMetrics(),
		libp2p.EnableNATService(), libp2p.EnableAutoNATv2(), libp2p.ForceReachabilityPublic())
	if err != nil {
		t.Fatal(err)
	}
	d, err := dht.New(h, dht.Mode(dht.ModeServer))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { d.Close(); h.Close() }()
	if s := os.Getenv(simPeers); s != "" {
		as, err := ParseMultiaddrs(strings.Fields(s))
		if err != nil {
			t.Fatal(err)
		}
		infos, err := peer.AddrInfosFromP2pAddrs(as...)
		if err != nil {
			t.Fatal(err)
		}
		for _, pi := range infos {
			if err := h.Connect(ctx, pi); err != nil {
				t.Fatal(err)
			}
		}
	}
	pi := peer.AddrInfo{ID: h.ID()}
	for _, a := range h.Addrs() {
		if !manet.IsIPLoopback(a) {
			pi.Addrs = append(pi.Addrs, a)
		}
	}
	as, _ := peer.AddrInfoToP2pAddrs(&pi)
	var addrs []string
	for _, a := range as {
		addrs = append(addrs, a.String())
	}
	fmt.Printf("AMINO %s\n", strings.Join(addrs, " "))
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// simProvide waits until the provider can be reached (a relay
// reservation, or a public address), then answers job streams and
// advertises itself.
func simProvide(ctx context.Context, t *testing.T, h *Host) {
	testenv.WaitFor(t, "a relay reservation or a public address", simTimeout, func() bool {
		return hasCircuit(h.LibP2P().Addrs()) || h.Reachability().Reach == ReachDirect
	})
	h.LibP2P().SetStreamHandler(simProto, func(s network.Stream) {
		fmt.Fprintf(s, "limited=%v\n", s.Conn().Stat().Limited)
		_ = s.Close()
	})
	if err := h.Advertise(ctx, "gpu"); err != nil {
		t.Fatal(err)
	}
	if err := h.PublishAd(ctx, testAd("", time.Time{}, 0)); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("READY %s %s\n", h.ID(), h.Reachability().Reach)
}

// simFind looks for p through Spare's DHT until it connects to it and
// prints the time since this host started.
func simFind(ctx context.Context, t *testing.T, h *Host, p peer.ID, start time.Time) {
	testenv.WaitFor(t, "provider "+p.String()+" found and connected", simTimeout, func() error {
		fctx, cancel := context.WithTimeout(network.WithAllowLimitedConn(ctx, "spare-test"), 10*time.Second)
		defer cancel()
		for pi := range h.FindProviders(fctx, "gpu") {
			if pi.ID == p {
				return h.Connect(fctx, pi)
			}
		}
		return fmt.Errorf("not among the providers found yet")
	})
	via := "direct"
	if h.LibP2P().Network().Connectedness(p) == network.Limited {
		via = "relay"
	}
	fmt.Printf("FOUND %s %d %s\n", p, time.Since(start).Milliseconds(), via)
}

// simJob opens a job stream as market.Requester does (NewDirectStream)
// and reads whether the provider saw it come over a relay.
func simJob(ctx context.Context, h *Host, p peer.ID) {
	jctx, cancel := context.WithTimeout(ctx, simJobWait)
	defer cancel()
	start := time.Now()
	s, err := h.NewDirectStream(network.WithDialPeerTimeout(jctx, simJobWait), p, simProto)
	if err != nil {
		why := "other"
		if errors.Is(err, ErrRelayOnly) {
			why = "relay-only"
		}
		// What ended the wait: the failed punches with p seen when it
		// ended, or the dial timeout.
		fails, _ := h.reach.peers.state(p)
		ok, failed := h.HolePunches()
		fmt.Printf("JOB %s refused %s punch-fails=%d timeout=%v after=%dms punched=%d/%d %s\n", p, why, fails,
			errors.Is(err, context.DeadlineExceeded), time.Since(start).Milliseconds(), ok, ok+failed, strconv.Quote(err.Error()))
		return
	}
	defer s.Close()
	line, err := bufio.NewReader(s).ReadString('\n')
	if err != nil {
		fmt.Printf("JOB %s failed %s\n", p, strconv.Quote(err.Error()))
		return
	}
	ok, failed := h.HolePunches()
	fmt.Printf("JOB %s ok %s %s punched=%d/%d\n", p, strings.TrimSpace(line), s.Conn().RemoteMultiaddr(), ok, ok+failed)
}
