package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// CLI is the client that creates a Redis Cluster (Debian's redis-tools,
// which redis-server depends on); found on PATH or in /usr/bin.
const CLI = "redis-cli"

// clusterTimeout bounds the creation of a cluster, until every node says
// cluster_state:ok.
const clusterTimeout = time.Minute

// Cluster is a Redis Cluster of masters without replicas, each a
// redis-server on 127.0.0.1 in a temporary directory.
type Cluster struct {
	// Addrs are the masters' "127.0.0.1:<port>", the seeds of a cluster
	// client (redis.NewUniversalClient with more than one address makes
	// a ClusterClient).
	Addrs []string
	// Servers are the masters. Restart does not apply to them.
	Servers []*Server
}

// CLIPath returns the redis-cli binary, or an error that says how to
// install it.
func CLIPath() (string, error) {
	if p, err := exec.LookPath(CLI); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/bin/" + CLI); err == nil {
		return "/usr/bin/" + CLI, nil
	}
	return "", errors.New("redistest: redis-cli is not installed: run `make redis-debian` (Debian's redis-tools, through apt-get)")
}

// StartCluster launches n masters (at least 3, Redis Cluster's least),
// joins them with `redis-cli --cluster create` (the slots spread over
// them, no replicas), and waits until every node says cluster_state:ok.
// The servers stop at the test's cleanup. It fails t when redis-server
// or redis-cli is missing, or the cluster does not come up.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	if n < 3 {
		t.Fatalf("redistest: a Redis Cluster needs at least 3 masters, not %d", n)
	}
	cli, err := CLIPath()
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{}
	for range n {
		srv := start(t, func(dir string) ([]string, error) {
			// The bus port is a free port too: the default, port + 10000,
			// may be taken or out of range.
			bus, err := FreePort()
			if err != nil {
				return nil, err
			}
			return []string{
				"--cluster-enabled", "yes",
				"--cluster-config-file", filepath.Join(dir, "nodes.conf"),
				"--cluster-port", strconv.Itoa(bus),
			}, nil
		})
		c.Servers = append(c.Servers, srv)
		c.Addrs = append(c.Addrs, srv.Addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: %s %s: %v; output: %s", cli, strings.Join(args, " "), err, out)
	}
	for _, addr := range c.Addrs {
		if err := waitClusterOK(ctx, addr); err != nil {
			t.Fatalf("redistest: cluster node %s: %v", addr, err)
		}
	}
	return c
}

// waitClusterOK waits until the node at addr says cluster_state:ok.
func waitClusterOK(ctx context.Context, addr string) error {
	last, err := poll(ctx, nil, func() (bool, string) {
		info, err := inlineBulk(ctx, addr, "CLUSTER INFO")
		return err == nil && strings.Contains(info, "cluster_state:ok"), fmt.Sprint(info, err)
	})
	if err != nil {
		return fmt.Errorf("no cluster_state:ok within %v; last CLUSTER INFO: %s", clusterTimeout, last)
	}
	return nil
}
