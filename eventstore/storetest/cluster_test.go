package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// routesTo names the peers s has a route to, and fails when one of them was dialled at a peer's
// own cluster port: such a route goes around the proxies and no Crash can cut it.
func routesTo(t *testing.T, c *Cluster, s *server.Server) map[string]bool {
	t.Helper()
	rz, err := s.Routez(nil)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, r := range rz.Routes {
		for _, peer := range c.Servers {
			if r.DidSolicit && r.Port == peer.ClusterAddr().Port {
				t.Fatalf("%s dialled %s at its own cluster port %d, around the proxies", s.Name(), peer.Name(), r.Port)
			}
		}
		names[r.RemoteName] = true
	}
	return names
}

func TestACrashedNodeKeepsNoRouteToItsPeers(t *testing.T) {
	c := StartCrashableCluster(t)
	CheckFor(t, 30*time.Second, 20*time.Millisecond, func() error {
		for _, s := range c.Servers {
			if n := len(routesTo(t, c, s)); n != 2 {
				return fmt.Errorf("%s has routes to %d peers, want 2", s.Name(), n)
			}
		}
		return nil
	})
	c.Crash(0)
	crashed := c.Servers[0].Name()
	CheckFor(t, 30*time.Second, 20*time.Millisecond, func() error {
		if n := len(routesTo(t, c, c.Servers[0])); n != 0 {
			return fmt.Errorf("%s, crashed, still has routes to %d peers", crashed, n)
		}
		for i, s := range c.Servers[1:] {
			peers := routesTo(t, c, s)
			if peers[crashed] {
				return fmt.Errorf("%s still has a route to %s, crashed", s.Name(), crashed)
			}
			if other := c.Servers[2-i].Name(); !peers[other] {
				return fmt.Errorf("%s lost its route to %s, which did not crash", s.Name(), other)
			}
		}
		return nil
	})
}
