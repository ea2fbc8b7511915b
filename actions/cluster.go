package actions

import "encoding/json"

// Cluster actions: several processes share one pool through Redis
// (package cluster). Each bot is driven by at most one process (a node)
// at a time, under a lease whose fencing token grows with every new
// holder; every process's store holds the whole pool, the facts of bots
// driven elsewhere arriving from their owner's feed.
//
// An action that arrived from another process's feed keeps its type and
// payload (a bot/LOGIN is a bot/LOGIN wherever it is reduced) and carries
// its origin in Meta.Node and Meta.Token: the reducer applies it only
// while that node holds that token for the bot, so a late fact of a
// former owner never lands on the bot's new owner.

// OwnedPayload says that a node drives a bot from now on, under a fencing
// token.
type OwnedPayload struct {
	Bot   string `json:"bot"`
	Node  string `json:"node"`
	Token uint64 `json:"token"`
}

// ReleasedPayload says that a node no longer drives a bot: it released
// the lease (published to the feed), or lost it (reduced in its own store
// only).
type ReleasedPayload struct {
	Bot    string `json:"bot"`
	Node   string `json:"node"`
	Token  uint64 `json:"token"`
	Reason string `json:"reason,omitempty"`
}

// SnapshotPayload carries the pool as the feed had folded it up to the
// stream entry ID: JSON of a reducers.Pool (the actions package does not
// know that type). A joining process reduces it once, then follows the
// feed from ID.
type SnapshotPayload struct {
	ID    string          `json:"id"`
	State json.RawMessage `json:"state"`
}

// Cluster actions.
var (
	// Owned: a node holds the bot's lease under Token. Reduced in every
	// process; the node that holds it drives the bot.
	Owned = Define[OwnedPayload]("cluster/OWNED")
	// Released: the node no longer drives the bot. The bot is out of
	// rotation until a node owns it and it logs in there.
	Released = Define[ReleasedPayload]("cluster/RELEASED")
	// Snapshot: the records of the bots driven elsewhere, as the feed
	// knew them at a stream entry, for a process that joins.
	Snapshot = Define[SnapshotPayload]("cluster/SNAPSHOT")
)
