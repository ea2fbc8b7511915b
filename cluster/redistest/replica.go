package redistest

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
)

// StartReplica launches a server that replicates primary (--replicaof,
// on 127.0.0.1, in a temporary directory of its own) and waits until its
// link to the primary is up and the first sync done
// (master_link_status:up). Kill stops it for real; Restart brings it back
// on the same port, empty, and it syncs again. It stops at the test's
// cleanup (before the primary, which was started first). It fails t when
// the replica does not come up.
func StartReplica(t testing.TB, primary *Server) *Server {
	t.Helper()
	host, port, err := net.SplitHostPort(primary.Addr)
	if err != nil {
		t.Fatalf("redistest: primary address %q: %v", primary.Addr, err)
	}
	s := start(t, func(string) ([]string, error) {
		return []string{"--replicaof", host, port}, nil
	})
	s.primary = primary.Addr
	if err := s.waitLinkUp(); err != nil {
		t.Fatalf("redistest: replica of %s: %v; output: %s", primary.Addr, err, s.Output())
	}
	return s
}

// waitLinkUp waits, bounded by readyTimeout, for the replica to say
// master_link_status:up, the primary to list it online, and a write on
// the primary to be acknowledged by it (after a diskless sync the primary
// streams nothing until the replica's first ACK, up to a second later).
func (s *Server) waitLinkUp() error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	online := fmt.Sprintf("ip=127.0.0.1,port=%d,state=online", s.port)
	last, err := poll(ctx, nil, func() (bool, string) {
		info, err := inlineBulk(ctx, s.Addr, "INFO replication")
		if err == nil && strings.Contains(info, "master_link_status:up") {
			info, err = inlineBulk(ctx, s.primary, "INFO replication")
			if err == nil && strings.Contains(info, online) {
				if err = acknowledged(ctx, s.primary); err == nil {
					return true, ""
				}
			}
		}
		return false, fmt.Sprint(info, err)
	})
	if err != nil {
		return fmt.Errorf("not in sync within %v; last INFO replication: %s", readyTimeout, last)
	}
	return nil
}

// acknowledged writes a key on the primary at addr, deletes it, and asks
// WAIT 1 100 on the same connection: nil when one replica acknowledged.
func acknowledged(ctx context.Context, addr string) error {
	c, r, err := roundTrip(ctx, addr, "SET redistest:sync 1\r\nDEL redistest:sync\r\nWAIT 1 100\r\n")
	if err != nil {
		return err
	}
	defer c.Close()
	var last string
	for range 3 {
		if last, err = r.ReadString('\n'); err != nil {
			return err
		}
	}
	if strings.TrimRight(last, "\r\n") != ":1" {
		return fmt.Errorf("WAIT 1 100 answered %q", strings.TrimRight(last, "\r\n"))
	}
	return nil
}

// inlineBulk sends one inline command and reads its bulk string reply.
func inlineBulk(ctx context.Context, addr, command string) (string, error) {
	c, r, err := roundTrip(ctx, addr, command+"\r\n")
	if err != nil {
		return "", err
	}
	defer c.Close()
	head, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	head = strings.TrimRight(head, "\r\n")
	size, err := strconv.Atoi(strings.TrimPrefix(head, "$"))
	if !strings.HasPrefix(head, "$") || err != nil || size < 0 {
		return "", fmt.Errorf("answer %q", head)
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(r, body); err != nil {
		return "", err
	}
	return string(body), nil
}
