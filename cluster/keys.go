package cluster

import (
	"fmt"
	"strings"
)

// Keys builds every key of one pool: the leases, the feed, the forwarded
// sends, the inbound claims, the heartbeats and the login semaphore all
// name their keys through it.
//
// Every key starts with the hash tag {P}, P the prefix, so Redis Cluster
// puts a whole pool in one slot: the scripts and transactions that touch
// several keys (a fenced append to the shared stream, the snapshot's
// compare-and-set with its trim, a forwarded send's answer) run on one
// shard. The price is that one pool lives on one shard of a Redis
// Cluster; pools under different prefixes spread over the shards.
//
// The parts after the tag (bot, node and message names) follow it
// verbatim; a brace in them does not matter, since Redis hashes only the
// first {…} of a key.
type Keys struct{ Prefix string }

// tag is "{P}", the hash tag every key of the pool starts with.
func (k Keys) tag() string { return "{" + k.Prefix + "}" }

// Lease is {P}:lease:bot: "node|token", PX = the lease.
func (k Keys) Lease(bot string) string { return k.tag() + ":lease:" + bot }

// Fence is {P}:fence:bot: the highest token granted; never deleted.
func (k Keys) Fence(bot string) string { return k.tag() + ":fence:" + bot }

// Quiet is {P}:quiet:bot: present while no grant may be made.
func (k Keys) Quiet(bot string) string { return k.tag() + ":quiet:" + bot }

// Offer is {P}:offer:bot: present while a handover reserves the bot.
func (k Keys) Offer(bot string) string { return k.tag() + ":offer:" + bot }

// Epoch is {P}:epoch: set at first use; gone means Redis lost its data.
func (k Keys) Epoch() string { return k.tag() + ":epoch" }

// Node is {P}:node:node, the node's heartbeat.
func (k Keys) Node(node string) string { return k.tag() + ":node:" + node }

// Slots is {P}:slots:name, a semaphore's sorted set.
func (k Keys) Slots(name string) string { return k.tag() + ":slots:" + name }

// Events is {P}:events, the feed's stream.
func (k Keys) Events() string { return k.tag() + ":events" }

// Snapshot is {P}:snapshot, the feed's snapshot.
func (k Keys) Snapshot() string { return k.tag() + ":snapshot" }

// Sends is {P}:sends:node, the stream of sends forwarded to node.
func (k Keys) Sends(node string) string { return k.tag() + ":sends:" + node }

// Results is {P}:results:node, the stream of results of node's forwarded
// sends.
func (k Keys) Results(node string) string { return k.tag() + ":results:" + node }

// Seen is {P}:seen:id, an inbound message's claim.
func (k Keys) Seen(id string) string { return k.tag() + ":seen:" + id }

// Validate refuses a prefix that cannot be a hash tag: empty, or with a
// brace.
func (k Keys) Validate() error {
	if k.Prefix == "" || strings.ContainsAny(k.Prefix, "{}") {
		return fmt.Errorf("cluster: key prefix %q: want a non-empty prefix without '{' or '}'", k.Prefix)
	}
	return nil
}

func (k Keys) bot(bot string) []string {
	return []string{k.Lease(bot), k.Fence(bot), k.Quiet(bot), k.Offer(bot)}
}
