// Package cluster lets several processes share one pool of bot accounts
// through Redis: each bot is driven by at most one process at a time,
// under a lease with a fencing token; a dead process's bots are taken
// over by the others within one lease and one retry; processes with room
// to spare stand by (N+X).
//
// # Ownership
//
// A process registers the bots it can drive (Register, with their
// puppets) and a capacity (WithCapacity). Every Retry it renews the
// leases it holds (one pipelined round trip) and, while it has room,
// takes free bots (grant: a Lua script that INCRs the bot's fence, the
// token, and sets the lease). When it gains a bot it lends the puppet to
// the local pool (Driver.Drive), wrapped so that every call is refused as
// not sent once the process's own end of the lease has passed; when it
// loses one, or gives it up, it stops the puppet first (Driver.Undrive),
// then releases the lease. A held bot moves only on an explicit
// Handover, or when its process stops (Stop releases every lease after
// stopping the puppets) or dies (the lease runs out).
//
// Logins and resets (every puppet Start) take a slot of a cluster-wide
// semaphore (WithLoginConcurrency), as the QQ bot SDK's max concurrency
// does.
//
// # Keys (prefix P, WithPrefix; built by Keys)
//
//	{P}:lease:bot      "node|token", PX = the lease: present while held
//	{P}:fence:bot      the highest token granted; never deleted
//	{P}:quiet:bot      PX: no grant until it expires (the epoch rule)
//	{P}:offer:bot      PX: a handover reserves the bot for one node
//	{P}:epoch          set at first use; gone means Redis lost its data
//	{P}:node:node      PX: the node is alive, {"capacity":…,"driving":…}
//	{P}:slots:logins   sorted set: the login semaphore's slots
//	{P}:events         stream: the bots' facts, each appended fenced
//	{P}:snapshot       the feed's fold up to one entry of the stream
//	{P}:sends:node     stream: sends forwarded to node
//	{P}:results:node   stream: results of node's forwarded sends
//	{P}:seen:id        PX: an inbound message's claim
//	{P}:print:fp       PX: an inbound message's content claim (its fingerprint)
//
// Every key of a pool carries the hash tag {P}, so Redis Cluster puts the
// whole pool in one slot: every script passes all the keys it touches in
// KEYS, and the scripts and transactions that touch several keys (the
// fenced append of a fact to the shared stream, the snapshot's
// compare-and-set with its trim, a forwarded send's answer with its
// acknowledgement) run on one shard without CROSSSLOT. The trade-off: one
// pool lives on one shard of a Redis Cluster (its load and memory do not
// spread); pools under different prefixes hash to different slots, and
// so spread over the shards.
//
// # What each guarantee rests on
//
//   - At most one driver per bot, on one Redis server (or the Redis
//     Cluster shard that holds the pool's slot) that keeps its data:
//     Redis grants a lease to one node at a time (a script runs alone);
//     the holder stops its puppet's calls at RenewDeadline after it sent
//     its last successful renewal, by its monotonic clock, before Redis expires the lease (Lease after it ran
//     the command). This needs the holder's clock not to run more than
//     (Lease−RenewDeadline)/RenewDeadline faster than Redis's (a third,
//     with the defaults) and the puppet's in-flight calls to end within
//     that margin (they run under a context that ends at the holder's end).
//     No clocks are compared with each other.
//   - Redis restarted empty: every holder's next renewal fails and it
//     stops at once; no grant is made for one lease after the bot's fence
//     is found missing, so a holder that could not hear of the loss
//     (paused, cut off) has stopped by its own clock first. Tokens keep
//     growing across the loss (the new fence starts from the server's
//     clock in µs).
//   - Sentinel (or any asynchronous replica): a failover can lose a grant
//     or renewal that the old master acknowledged and did not pass on, so
//     two nodes may drive one bot for up to one lease. The fence check of
//     shared writes still refuses the loser's writes once the new master
//     has granted.
//   - WithReplicaAck(n, timeout) narrows that: a grant (its fence INCR and
//     lease SET, one script) and each renewal are followed by WAIT n
//     timeout on their connection, and count only when n replicas
//     acknowledged them. A node drives a bot only within RenewDeadline of
//     its last acknowledged grant or renewal; an unacknowledged grant is
//     released undriven, an unacknowledged renewal leaves the end where it
//     was (the bot stops at the renew deadline unless a later one is
//     acknowledged). So a failover to a replica that acknowledged keeps
//     the lease and the fence, and no other node is granted the bot
//     before the holder stopped. It rests on Sentinel promoting such a
//     replica (always, with n = every replica, unless one restarted and
//     lost its memory), and on the servers' wall clocks agreeing within
//     Lease−RenewDeadline (Redis 7 replicates a lease's expiry as an
//     absolute time). WAIT does not make Redis strongly consistent:
//     Sentinel's choice is best effort, and replicas keep the write in
//     memory only; the option bounds the window, it does not close it.
//     Releases, handover offers and login slots are not waited for (their
//     loss only delays a grant), nor are the feed's fenced writes. The
//     two remedies answer different failures: the fence protects the
//     shared keys from a holder that lost its lease (Redis checks the
//     token), WAIT protects the lease itself from a failover; the chat
//     platform checks no token, so what keeps a bot to one driver there is
//     the holder stopping at its own deadline, which WAIT keeps true
//     across a failover to a replica that acknowledged.
//   - Redis unreachable: holders stop at their renew deadline (the app
//     sees ErrNoBot for those bots); WithDriveThroughOutage keeps them
//     driving, at the price of two drivers should this process alone be
//     cut off.
//
// # Usage
//
//	c, err := cluster.New("redis://127.0.0.1:6379/0", cluster.WithCapacity(3))
//	for name, p := range puppets {
//		_ = c.Register(name, p)
//	}
//	_ = c.Start(ctx, driver) // the pool: hawechaty.WithCluster does this
//	…
//	_ = c.Stop(ctx) // stop the puppets, release the leases
//
// The loop, every Retry:
//
//	renew held leases (pipelined, + WAIT with WithReplicaAck)  ─► lost: fence + undrive
//	                               ─► Redis unreachable past RenewDeadline: fence + undrive
//	heartbeat {P}:node:node, SET NX {P}:epoch
//	room left? GET free leases (pipelined) ─► grant (+ WAIT: unacknowledged ─► release) ─► Drive (its Start waits for a login slot)
package cluster
