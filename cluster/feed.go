package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/internal/recv"
	"github.com/hawechaty/hawechaty/internal/sleep"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/reactivex/rxgo/v2"
	"github.com/redis/go-redis/v9"
)

// DefaultPublished is the set of action types a bot's owner publishes
// by default. A bot/FAILED is published only when it tells the reducer's
// decision (Decided).
var DefaultPublished = []string{
	actions.Login.Type(), actions.Logout.Type(), actions.Scan.Type(), actions.RoomsLearned.Type(),
	actions.ContactsLearned.Type(), actions.ContactAdded.Type(), actions.ContactRemoved.Type(),
	actions.BotFailed.Type(), actions.BotRecovered.Type(),
}

// FeedOptions configure a Feed. Zero fields take the defaults.
type FeedOptions struct {
	// Prefix of every key (default "hawechaty").
	Prefix string
	// Published lists the action types published for the bots this
	// process drives (default DefaultPublished). An application that
	// adds facts of its own lists them here.
	Published []string
	// SnapshotEvery is how often the process writes {P}:snapshot and trims
	// the stream (default 30 s).
	SnapshotEvery time.Duration
	// Block bounds one read of the stream (default 1 s); Batch is the
	// most entries read at once (default 512).
	Block time.Duration
	Batch int
	// Retry is the wait before a publish that Redis did not answer is
	// tried again (default 200 ms). A publish is tried until it is
	// written, refused (the lease is no longer this node's), or the
	// store stops.
	Retry time.Duration
	// Log receives the feed's errors (default: discard).
	Log *slog.Logger
}

func (o FeedOptions) defaults() FeedOptions {
	if o.Prefix == "" {
		o.Prefix = "hawechaty"
	}
	if o.Published == nil {
		o.Published = DefaultPublished
	}
	if o.SnapshotEvery == 0 {
		o.SnapshotEvery = 30 * time.Second
	}
	if o.Block == 0 {
		o.Block = time.Second
	}
	if o.Batch == 0 {
		o.Batch = 512
	}
	if o.Retry == 0 {
		o.Retry = 200 * time.Millisecond
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

// Feed is one process's side of the event feed: it publishes the facts
// of the bots this process drives and follows everyone else's. Create it
// with NewFeed; wire it with PublishEpic (in the store's options), Follow
// (a goroutine for the store's life) and Own, Release and Lost (called by
// the lease manager).
//
// The process that drives a bot (its owner) publishes the bot's facts to
// the stream {P}:events, each through a fenced script that refuses unless
// the publisher still holds the bot's lease under its token. Every
// process follows the stream and dispatches the facts of the bots driven
// elsewhere into its store, marked with their origin (actions.Meta.Node
// and Token), where the reducer applies them only while that node holds
// that token (reducers/cluster.go).
//
// What is published, and why (DefaultPublished):
//   - bot/LOGIN, bot/LOGOUT, bot/SCAN: whether the account is logged in,
//     and as whom (the pool's own messages are told apart by it);
//   - bot/ROOMS: which rooms the bot reaches, for routing;
//   - bot/FAILED (the reducer's decision, Decided) and bot/RECOVERED:
//     the outcome of the owner's heartbeat, without its ticks;
//   - cluster/OWNED and cluster/RELEASED, published by Own and Release.
//
// What is not: the clock's bot/DUE, dings, dongs, heartbeats and reset
// reports (the owner's heartbeat machinery, told by its outcome:
// FAILED and RECOVERED); bot/MESSAGE (delivered to the application once,
// by the process whose bot received it: see Inbound; and the bulk of any
// pool's traffic); sends (forwarded to the owner, not broadcast: see
// Forwarder); pool-level notices (each process derives them from its
// whole-pool state).
//
// A process that joins loads {P}:snapshot, {"id": the last stream entry
// folded in, "state": the pool's JSON}, reduces it as cluster/SNAPSHOT,
// then follows the stream from just after that entry: no entry is
// missed, none is applied twice. The snapshot is the stream's fold
// alone: the follower keeps, beside the store, a mirror of the pool that
// applies every entry (its own included) and nothing else, so that a
// snapshot never holds a fact that is also in the stream after its id.
// (The store's own state cannot serve: its own bots' facts are reduced
// before they are published.)
//
// Every process writes the snapshot every SnapshotEvery, if its mirror
// has folded entries newer than the stored snapshot's, and trims the
// stream up to the snapshot before (XTRIM MINID ~): the stream holds the
// entries of about two snapshot periods, and a process that loaded the
// older snapshot has one period to start reading. A trim by entry count
// (MAXLEN) is not used: it could drop entries no snapshot has folded yet.
// Should a joiner find its snapshot's entry trimmed all the same, it
// loads the newer snapshot.
type Feed struct {
	rdb       redis.UniversalClient
	node      string
	opts      FeedOptions
	published map[string]bool

	keys             Keys
	events, snapshot string

	mu   sync.Mutex
	last string // the last stream entry folded into the store, for tests and metrics
}

// NewFeed returns the feed of node on rdb.
func NewFeed(rdb redis.UniversalClient, node string, opts FeedOptions) (*Feed, error) {
	if rdb == nil {
		return nil, errors.New("cluster: feed: nil Redis client")
	}
	if err := checkNode(node); err != nil {
		return nil, err
	}
	opts = opts.defaults()
	if opts.SnapshotEvery < 0 || opts.Block < 0 || opts.Batch < 0 || opts.Retry < 0 {
		return nil, fmt.Errorf("cluster: feed options %+v: negative durations or sizes", opts)
	}
	keys := Keys{Prefix: opts.Prefix}
	if err := keys.Validate(); err != nil {
		return nil, err
	}
	f := &Feed{rdb: rdb, node: node, opts: opts, published: map[string]bool{}, keys: keys,
		events: keys.Events(), snapshot: keys.Snapshot()}
	for _, t := range opts.Published {
		f.published[t] = true
	}
	return f, nil
}

// checkNode refuses a node name that cannot be told apart in a lease's
// value ("node|token") or in a key's hash tag.
func checkNode(node string) error {
	if node == "" || strings.ContainsAny(node, "|{}") {
		return fmt.Errorf("cluster: node name %q: want a non-empty name without '|', '{' or '}'", node)
	}
	return nil
}

// Node returns the node this feed publishes for.
func (f *Feed) Node() string { return f.node }

// publish appends a to the stream as bot's fact under token. It returns
// the entry's ID, or ErrFenced when the lease is not held under token
// (the write is FenceScript: one script, the lease manager's check).
func (f *Feed) publish(ctx context.Context, bot string, token uint64, a actions.Action) (string, error) {
	a.Meta = actions.Meta{}
	raw, err := json.Marshal(a)
	if err != nil {
		return "", fmt.Errorf("cluster: publish %s: %w", a.Type, err)
	}
	tok := strconv.FormatUint(token, 10)
	id, err := FenceScript.Run(ctx, f.rdb, []string{f.keys.Lease(bot), f.keys.Fence(bot), f.events},
		f.node+"|"+tok, tok, "bot", bot, "node", f.node, "token", tok, "type", a.Type, "action", raw).Text()
	if err != nil {
		if IsFenced(err) {
			return "", fmt.Errorf("%w: %w", ErrFenced, err)
		}
		return "", fmt.Errorf("cluster: publish %s of %q: %w", a.Type, bot, err)
	}
	return id, nil
}

// publishes reports whether a is one of this process's facts to publish.
func (f *Feed) publishes(a actions.Action) bool {
	if a.Meta.Node != "" || !f.published[a.Type] {
		return false
	}
	if p, ok := actions.BotFailed.Match(a); ok {
		return p.Decided
	}
	return true
}

// PublishEpic is the epic that publishes the facts of the bots this
// process drives, in dispatch order, each under the bot's token in the
// state when the epic reads it (a bot that has left this node since is
// skipped; a refusal means the lease is gone, and the fact is dropped).
// It emits nothing. get finds the pool in the store's state.
func PublishEpic[S any](f *Feed, get func(S) reducers.Pool) store.Epic[S] {
	return func(ctx context.Context, in rxgo.Observable, state store.StateStream[S]) rxgo.Observable {
		return rxgo.Defer([]rxgo.Producer{func(pctx context.Context, _ chan<- rxgo.Item) {
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			items := in.Observe(rxgo.WithContext(ctx))
			for {
				it, ok := recv.Next(ctx, pctx, items)
				if !ok {
					return
				}
				a, isAction := it.V.(actions.Action)
				if !isAction || !f.publishes(a) {
					continue
				}
				bot := actions.BotOf(a)
				b, known := get(state.Value()).Bots.Get(bot)
				if !known || b.Node != f.node || b.Token == 0 {
					continue
				}
				f.publishRetrying(ctx, bot, b.Token, a)
			}
		}}, rxgo.WithContext(ctx))
	}
}

// publishRetrying publishes until the fact is written, refused, or ctx
// ends.
func (f *Feed) publishRetrying(ctx context.Context, bot string, token uint64, a actions.Action) {
	for {
		_, err := f.publish(ctx, bot, token, a)
		switch {
		case err == nil:
			return
		case errors.Is(err, ErrFenced):
			f.opts.Log.Debug("cluster: a fact of a bot whose lease is gone is not published", "bot", bot, "type", a.Type)
			return
		case ctx.Err() != nil:
			return
		}
		f.opts.Log.Warn("cluster: cannot publish; retrying", "bot", bot, "type", a.Type, "err", err)
		if !sleep.For(ctx, f.opts.Retry) {
			return
		}
	}
}

// Own announces that this node drives bot under token, just after the
// lease was granted and before the bot's puppet starts: it publishes
// cluster/OWNED (fenced) and then dispatches it into this process's
// store. A refusal (ErrFenced) means the lease is no longer this
// node's: nothing is dispatched, and the bot must not be driven.
func (f *Feed) Own(ctx context.Context, dispatch func(actions.Action) error, bot string, token uint64) error {
	a := actions.Owned.New(actions.OwnedPayload{Bot: bot, Node: f.node, Token: token}).WithSource("cluster")
	if _, err := f.publish(ctx, bot, token, a); err != nil {
		return err
	}
	return dispatch(a)
}

// Release announces a clean release, before the lease is deleted: it
// publishes cluster/RELEASED (fenced) and dispatches it here. The bot is
// released in this store whether or not the publish succeeded (then the
// other processes learn of it from the next owner's cluster/OWNED); the
// publish's error is returned.
func (f *Feed) Release(ctx context.Context, dispatch func(actions.Action) error, bot string, token uint64, reason string) error {
	a := actions.Released.New(actions.ReleasedPayload{Bot: bot, Node: f.node, Token: token, Reason: reason}).WithSource("cluster")
	_, perr := f.publish(ctx, bot, token, a)
	return errors.Join(perr, dispatch(a))
}

// Lost tells this process's store that it no longer drives bot (its lease
// could not be renewed in time): nothing is published (a fenced write
// would be refused); the other processes learn of it from the next
// owner's cluster/OWNED.
func (f *Feed) Lost(dispatch func(actions.Action) error, bot string, token uint64, reason string) error {
	return dispatch(actions.Released.New(actions.ReleasedPayload{Bot: bot, Node: f.node, Token: token, Reason: reason}).WithSource("cluster"))
}

// snapshotDoc is {P}:snapshot's JSON. The id comes first, so that the
// snapshot script reads it without decoding the state.
type snapshotDoc struct {
	ID    string          `json:"id"`
	State json.RawMessage `json:"state"`
}

// Follow loads the snapshot, dispatches it (cluster/SNAPSHOT), then
// follows the stream from the snapshot's entry until ctx ends,
// dispatching the facts of the bots driven elsewhere; meanwhile it writes
// the snapshot every SnapshotEvery. A bot driven elsewhere that the
// store does not know is added by its cluster/OWNED. It returns
// nil when ctx ends, or the error of a dispatch (the store stopped).
// Redis errors are logged and retried.
//
// Every read proves that nothing was trimmed between the last entry read
// and the next: it starts at that entry, inclusive, and must find it
// (from the start of the stream: in one transaction with the check that
// no snapshot exists, since only the replacement of a snapshot trims). A
// follower that finds its entry trimmed (it fell more than a snapshot
// period behind) loads the newer snapshot and goes on from there.
func (f *Feed) Follow(ctx context.Context, dispatch func(actions.Action) error) error {
	fl, err := f.join(ctx, dispatch)
	if err != nil || fl == nil {
		return err
	}
	nextSnap := time.Now().Add(f.opts.SnapshotEvery)
	for ctx.Err() == nil {
		if !time.Now().Before(nextSnap) {
			f.writeSnapshot(ctx, fl)
			nextSnap = time.Now().Add(f.opts.SnapshotEvery)
		}
		msgs, gap, err := f.read(ctx, fl.last)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil
			}
			f.opts.Log.Warn("cluster: cannot read the feed; retrying", "err", err)
			if !sleep.For(ctx, f.opts.Retry) {
				return nil
			}
			continue
		case gap:
			f.opts.Log.Warn("cluster: the feed was trimmed past this process's position; loading the snapshot", "at", fl.last)
			if fl, err = f.join(ctx, dispatch); err != nil || fl == nil {
				return err
			}
			continue
		case len(msgs) == 0:
			// At the end: wait for the next entry (the read after it
			// proves the continuity).
			block := min(f.opts.Block, max(time.Until(nextSnap), time.Millisecond))
			err := f.rdb.XRead(ctx, &redis.XReadArgs{Streams: []string{f.events, fl.last}, Count: 1, Block: block}).Err()
			if err != nil && !errors.Is(err, redis.Nil) && ctx.Err() == nil {
				f.opts.Log.Warn("cluster: cannot read the feed; retrying", "err", err)
				sleep.For(ctx, f.opts.Retry)
			}
			continue
		}
		for _, m := range msgs {
			if err := fl.apply(m, dispatch); err != nil {
				return err
			}
		}
		f.setLast(fl.last)
	}
	return nil
}

// read returns the entries after last, and whether entries between last
// and them may have been trimmed.
func (f *Feed) read(ctx context.Context, last string) ([]redis.XMessage, bool, error) {
	n := int64(f.opts.Batch)
	if last == "0-0" {
		var exists *redis.IntCmd
		var rng *redis.XMessageSliceCmd
		_, err := f.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			exists = p.Exists(ctx, f.snapshot)
			rng = p.XRangeN(ctx, f.events, "-", "+", n)
			return nil
		})
		if err != nil {
			return nil, false, err
		}
		if exists.Val() > 0 {
			return nil, true, nil // a snapshot was written since this process looked
		}
		return rng.Val(), false, nil
	}
	msgs, err := f.rdb.XRangeN(ctx, f.events, last, "+", n+1).Result()
	if err != nil {
		return nil, false, err
	}
	if len(msgs) == 0 || msgs[0].ID != last {
		return nil, true, nil
	}
	return msgs[1:], false, nil
}

// follower is the state of one Follow: the stream position and the
// mirror of the stream's fold, for snapshots.
type follower struct {
	f       *Feed
	last    string // the last entry read, "0-0" before the first
	written string // the last entry of a snapshot this process wrote
	mirror  reducers.Pool
	reduce  reducers.Reducer[reducers.Pool]
	seq     uint64
}

// mirrorNode is the mirror's node: no process's name (it has a '|'), so
// the mirror drives no bot and applies every node's facts.
const mirrorNode = "|mirror"

// join loads the snapshot and dispatches it, and returns the follower
// positioned at its entry. If that entry was trimmed meanwhile, it loads
// the newer snapshot.
func (f *Feed) join(ctx context.Context, dispatch func(actions.Action) error) (*follower, error) {
	for {
		fl := &follower{f: f, last: "0-0", reduce: reducers.Config{Node: mirrorNode}.Defaults().Reducer()}
		raw, err := f.rdb.Get(ctx, f.snapshot).Bytes()
		switch {
		case errors.Is(err, redis.Nil):
		case err != nil:
			if ctx.Err() != nil {
				return nil, nil
			}
			f.opts.Log.Warn("cluster: cannot read the snapshot; retrying", "err", err)
			if !sleep.For(ctx, f.opts.Retry) {
				return nil, nil
			}
			continue
		default:
			var doc snapshotDoc
			if err := json.Unmarshal(raw, &doc); err != nil {
				return nil, fmt.Errorf("cluster: snapshot: %w", err)
			}
			if err := json.Unmarshal(doc.State, &fl.mirror); err != nil {
				return nil, fmt.Errorf("cluster: snapshot %s: %w", doc.ID, err)
			}
			// The snapshot's entry must still be in the stream, or entries
			// after it may have been trimmed.
			got, err := f.rdb.XRangeN(ctx, f.events, doc.ID, doc.ID, 1).Result()
			if err != nil {
				if ctx.Err() != nil {
					return nil, nil
				}
				f.opts.Log.Warn("cluster: cannot read the feed; retrying", "err", err)
				if !sleep.For(ctx, f.opts.Retry) {
					return nil, nil
				}
				continue
			}
			if len(got) == 0 {
				// Trimmed: a newer snapshot is stored, or will be.
				if !sleep.For(ctx, f.opts.Retry) {
					return nil, nil
				}
				continue
			}
			fl.last, fl.written = doc.ID, doc.ID
			if err := dispatch(actions.Snapshot.New(actions.SnapshotPayload{ID: doc.ID, State: doc.State}).WithSource("cluster")); err != nil {
				return nil, err
			}
		}
		f.setLast(fl.last)
		return fl, nil
	}
}

// apply folds one stream entry into the mirror and, unless it is this
// process's own, dispatches it. A malformed entry is logged and skipped.
func (fl *follower) apply(m redis.XMessage, dispatch func(actions.Action) error) error {
	fl.last = m.ID
	a, err := decodeEntry(m)
	if err != nil {
		fl.f.opts.Log.Warn("cluster: a feed entry that does not decode is skipped", "id", m.ID, "err", err)
		return nil
	}
	fl.fold(a, m.ID)
	if a.Meta.Node == fl.f.node {
		return nil // reduced here when it was made
	}
	return dispatch(a)
}

// decodeEntry reads a stream entry as the action it carries, marked with
// its origin.
func decodeEntry(m redis.XMessage) (actions.Action, error) {
	str := func(k string) string { s, _ := m.Values[k].(string); return s }
	node, raw := str("node"), str("action")
	token, err := strconv.ParseUint(str("token"), 10, 64)
	if err != nil || node == "" {
		return actions.Action{}, fmt.Errorf("cluster: entry %s: node %q, token %q", m.ID, node, str("token"))
	}
	var a actions.Action
	if err := json.Unmarshal([]byte(raw), &a); err != nil {
		return actions.Action{}, fmt.Errorf("cluster: entry %s: %w", m.ID, err)
	}
	if a.Type != str("type") || actions.BotOf(a) != str("bot") {
		return actions.Action{}, fmt.Errorf("cluster: entry %s: fields disagree with the action %s", m.ID, a.Type)
	}
	a.Meta = actions.Meta{Source: "cluster/" + node, Node: node, Token: token}
	return a, nil
}

// fold applies a to the mirror at the entry's time.
func (fl *follower) fold(a actions.Action, id string) {
	fl.seq++
	a.Meta.Time, a.Meta.Seq = entryTime(id), fl.seq
	fl.mirror = fl.reduce(fl.mirror, a)
}

// entryTime is the time of a stream entry's ID, "ms-seq".
func entryTime(id string) time.Time {
	ms, _, _ := strings.Cut(id, "-")
	n, _ := strconv.ParseInt(ms, 10, 64)
	return time.UnixMilli(n)
}

// snapshotLua stores the snapshot ARGV[2] (KEYS[1]) whose entry is ARGV[1]
// unless the stored one is as new, and trims the stream (KEYS[2]) to the
// entry of the snapshot it replaces. It returns 1 when it stored.
const snapshotLua = `
local function newer(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am > bm or (am == bm and as > bs)
end
local cur = redis.call('GET', KEYS[1])
local old = nil
if cur then
  old = string.match(cur, '^{"id":"(%d+%-%d+)"')
  if old and not newer(ARGV[1], old) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[2])
if old then
  redis.call('XTRIM', KEYS[2], 'MINID', '~', old)
end
return 1
`

var snapshotScript = redis.NewScript(snapshotLua)

// writeSnapshot stores the mirror as the snapshot if it folded entries
// newer than the last one this process wrote.
func (f *Feed) writeSnapshot(ctx context.Context, fl *follower) {
	if fl.last == "0-0" || fl.last == fl.written {
		return
	}
	state, err := json.Marshal(fl.mirror)
	if err != nil {
		f.opts.Log.Error("cluster: cannot encode the snapshot", "err", err)
		return
	}
	doc, err := json.Marshal(snapshotDoc{ID: fl.last, State: state})
	if err != nil {
		f.opts.Log.Error("cluster: cannot encode the snapshot", "err", err)
		return
	}
	if err := snapshotScript.Run(ctx, f.rdb, []string{f.snapshot, f.events}, fl.last, doc).Err(); err != nil {
		if ctx.Err() == nil {
			f.opts.Log.Warn("cluster: cannot write the snapshot", "err", err)
		}
		return
	}
	fl.written = fl.last
}

func (f *Feed) setLast(id string) {
	f.mu.Lock()
	f.last = id
	f.mu.Unlock()
}

// Last returns the last stream entry this process has folded in ("0-0"
// before the first, "" before Follow has joined).
func (f *Feed) Last() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}
