package redistest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
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
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	online := fmt.Sprintf("ip=127.0.0.1,port=%d,state=online", s.port)
	var last string
	for {
		info, err := inlineBulk(ctx, s.Addr, "INFO replication")
		if err == nil && strings.Contains(info, "master_link_status:up") {
			info, err = inlineBulk(ctx, s.primary, "INFO replication")
			if err == nil && strings.Contains(info, online) {
				if err = acknowledged(ctx, s.primary); err == nil {
					return nil
				}
			}
		}
		last = fmt.Sprint(info, err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("not in sync within %v; last INFO replication: %s", readyTimeout, last)
		case <-tick.C:
		}
	}
}

// acknowledged writes a key on the primary at addr, deletes it, and asks
// WAIT 1 100 on the same connection: nil when one replica acknowledged.
func acknowledged(ctx context.Context, addr string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("SET redistest:sync 1\r\nDEL redistest:sync\r\nWAIT 1 100\r\n")); err != nil {
		return err
	}
	r := bufio.NewReader(c)
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
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte(command + "\r\n")); err != nil {
		return "", err
	}
	r := bufio.NewReader(c)
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
