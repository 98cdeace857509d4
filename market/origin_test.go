package market

import (
	"slices"
	"testing"

	"github.com/multiformats/go-multiaddr"
)

func TestOriginsOf(t *testing.T) {
	tests := []struct {
		name  string
		addrs []string
		want  []Origin
	}{
		{"public IPv4 by /24", []string{"/ip4/203.0.113.7/tcp/4001"}, []Origin{"ip4:203.0.113.0/24"}},
		{"one /24, two addresses", []string{"/ip4/203.0.113.7/tcp/4001", "/ip4/203.0.113.200/udp/4001/quic-v1"}, []Origin{"ip4:203.0.113.0/24"}},
		{"two /24s", []string{"/ip4/203.0.114.1/tcp/1", "/ip4/203.0.113.1/tcp/1"}, []Origin{"ip4:203.0.113.0/24", "ip4:203.0.114.0/24"}},
		{"public IPv6 by /48", []string{"/ip6/2001:db8:7:1::5/udp/4001/quic-v1", "/ip6/2001:db8:7:ffff::1/tcp/1"}, []Origin{"ip6:2001:db8:7::/48"}},
		{"two /48s", []string{"/ip6/2001:db8:7::1/tcp/1", "/ip6/2001:db8:8::1/tcp/1"}, []Origin{"ip6:2001:db8:7::/48", "ip6:2001:db8:8::/48"}},
		{"dual stack", []string{"/ip6/2001:db8:7::1/tcp/1", "/ip4/203.0.113.1/tcp/1"}, []Origin{"ip4:203.0.113.0/24", "ip6:2001:db8:7::/48"}},
		{"IPv4 mapped into IPv6 counts as IPv4", []string{"/ip6/::ffff:203.0.113.9/tcp/1"}, []Origin{"ip4:203.0.113.0/24"}},
		{"loopback /24s differ", []string{"/ip4/127.0.1.1/tcp/1", "/ip4/127.0.2.1/tcp/1"}, []Origin{"ip4:127.0.1.0/24", "ip4:127.0.2.0/24"}},
		{"loopback, one /24", []string{"/ip4/127.0.9.1/tcp/1", "/ip4/127.0.9.2/tcp/1"}, []Origin{"ip4:127.0.9.0/24"}},
		{"a LAN is one origin", []string{"/ip4/192.168.1.10/tcp/1", "/ip4/192.168.1.11/tcp/1"}, []Origin{"ip4:192.168.1.0/24"}},
		{"IPv6 link-local, zone dropped", []string{"/ip6zone/eth0/ip6/fe80::1/tcp/1"}, []Origin{"ip6:fe80::/48"}},
		{"relayed only", []string{"/ip4/198.51.100.1/tcp/4001/p2p-circuit"}, []Origin{OriginRelayed}},
		{"relayed through two relays is still one", []string{"/ip4/198.51.100.1/tcp/4001/p2p-circuit", "/ip4/192.0.2.1/tcp/4001/p2p-circuit"}, []Origin{OriginRelayed}},
		{"a direct address outranks a relay", []string{"/ip4/198.51.100.1/tcp/4001/p2p-circuit", "/ip4/203.0.113.1/tcp/1"}, []Origin{"ip4:203.0.113.0/24"}},
		{"no IP: not known", []string{"/dns4/example.com/tcp/1"}, nil},
		{"no address: not known", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var addrs []multiaddr.Multiaddr
			for _, s := range tc.addrs {
				a, err := multiaddr.NewMultiaddr(s)
				if err != nil {
					t.Fatal(err)
				}
				addrs = append(addrs, a)
			}
			if got := OriginsOf(addrs); !slices.Equal(got, tc.want) {
				t.Errorf("OriginsOf(%v) = %v, want %v", tc.addrs, got, tc.want)
			}
		})
	}
}
