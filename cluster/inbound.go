package cluster

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/hawechaty/hawechaty/store"
	"github.com/redis/go-redis/v9"
)

// InboundOptions configure an Inbound. Zero fields take the defaults.
type InboundOptions struct {
	// Prefix of every key (default "hawechaty").
	Prefix string
	// Window is how long a claim lasts (default 10 minutes; use the
	// pool's dedupe window, reducers.Config.DedupeWindow).
	Window time.Duration
	// Fingerprint is the window of the content claims: the pool's
	// reducers.Config.Fingerprint (0 takes its default, 30 s; negative
	// turns them off, as in the reducer).
	Fingerprint time.Duration
	// Timeout bounds one claim (default 1 s).
	Timeout time.Duration
	// Log receives the claims' errors (default: discard).
	Log *slog.Logger
}

// Inbound claims inbound messages cluster-wide: see InboundMiddleware.
//
// When bots driven by different processes sit in one room, each process
// receives the room's messages. Before a process's reducer decides
// whether an inbound message is new (its local dedupe, which stays), the
// process claims the message's ID cluster-wide: SET {P}:seen:id NX PX
// window. The process that sets it first goes on as before; the others
// mark the message Elsewhere, and their reducers take it as the bot's
// sign of life (and its room membership) but do not accept it: the
// application sees it once, in the process that claimed it.
//
// Bots on different providers see one room message under different
// IDs. When fingerprints are on (InboundOptions.Fingerprint), the claim
// also takes the message's content key, the reducer's own
// (reducers.Pool.Fingerprint: conversation, sender, text), as
// {P}:print:fp for the fingerprint window, in the same round trip (a
// script, both keys in the pool's slot). It does what the reducer's
// dedupe does, in the reducer's order: a claimed ID loses and leaves the
// content key alone; a new ID whose content key is held loses and is not
// claimed; otherwise both are claimed. So the processes together accept
// what one reducer that saw every copy would: a copy under another ID,
// within the window, is accepted once cluster-wide; the same text sent
// again after the window, or other content, is accepted again.
//
// Where the two layers differ: the window counts on Redis's clock from
// the claim, the reducer's on the action's time (they differ by a round
// trip); Redis holds every content key for the whole window, where the
// reducer forgets early past 8×DedupeSize keys within one window (a
// thousand messages a second), so under such a load the cluster may take
// a late copy for a duplicate that one process would have accepted; and
// the ID claim lasts Window, where the reducer keeps IDs for at least
// DedupeSize newer ones.
//
// A message the local dedupe already holds by its ID, the pool's own
// messages, and messages without an ID (which no process can match with
// another's copy) are not claimed; nor is a heartbeat answer, which is
// no message to the pool (a Dong). A message without text has no content
// key: only its ID is claimed. When Redis does not answer within
// Timeout, the message is accepted here: across processes, a message
// may then reach the application twice, never zero times; its content
// key is then claimed nowhere, and a copy under another ID in another
// process is accepted there too (each process's reducer still drops the
// copies it receives itself).
type Inbound struct {
	rdb  redis.UniversalClient
	node string
	opts InboundOptions
	keys Keys

	unsure atomic.Int64
}

// Unsure counts the claims Redis did not answer (their messages were
// accepted here, and may be accepted elsewhere too).
func (in *Inbound) Unsure() int64 { return in.unsure.Load() }

// NewInbound returns the inbound claims of node on rdb.
func NewInbound(rdb redis.UniversalClient, node string, opts InboundOptions) (*Inbound, error) {
	if rdb == nil {
		return nil, errors.New("cluster: inbound: nil Redis client")
	}
	if err := checkNode(node); err != nil {
		return nil, err
	}
	if opts.Prefix == "" {
		opts.Prefix = "hawechaty"
	}
	if opts.Window == 0 {
		opts.Window = 10 * time.Minute
	}
	if opts.Fingerprint == 0 {
		opts.Fingerprint = reducers.DefaultFingerprint
	}
	if opts.Fingerprint > 0 && opts.Fingerprint < time.Millisecond {
		return nil, errors.New("cluster: inbound: Fingerprint must be at least 1 ms, or negative for none")
	}
	if opts.Timeout == 0 {
		opts.Timeout = time.Second
	}
	if opts.Window < time.Millisecond || opts.Timeout < 0 {
		return nil, errors.New("cluster: inbound: Window must be at least 1 ms and Timeout not negative")
	}
	keys := Keys{Prefix: opts.Prefix}
	if err := keys.Validate(); err != nil {
		return nil, err
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Inbound{rdb: rdb, node: node, opts: opts, keys: keys}, nil
}

// Print is {P}:print:fp, an inbound message's content claim
// (reducers.Pool.Fingerprint).
func (k Keys) Print(fp string) string { return k.tag() + ":print:" + fp }

// inboundScript claims an inbound message: KEYS[1] its ID's key, KEYS[2]
// its content key; ARGV[1] the node, ARGV[2] the ID window and ARGV[3]
// the content window, in milliseconds. It returns 1 when both are
// claimed, 0 when the ID was claimed already (the content key is left
// alone), 2 when the content key is held (the ID is not claimed): the
// reducer's dedupe, in its order.
var inboundScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[3]) then return 2 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

// Claim claims the message with id cluster-wide: true when this process
// is the first (or Redis could not say), false when another process
// claimed it.
func (in *Inbound) Claim(ctx context.Context, id string) bool {
	return in.ClaimContent(ctx, id, "")
}

// ClaimContent claims the message with id and content key fp
// (reducers.Pool.Fingerprint) cluster-wide, in one round trip: true when
// this process is the first to claim both (or Redis could not say),
// false when another process claimed the ID, or, within the fingerprint
// window, the content under another ID. An empty fp, or fingerprints
// off, claims the ID alone, as Claim.
func (in *Inbound) ClaimContent(ctx context.Context, id, fp string) bool {
	ctx, cancel := context.WithTimeout(ctx, in.opts.Timeout)
	defer cancel()
	var ok bool
	var err error
	if fp == "" || in.opts.Fingerprint < 0 {
		ok, err = in.rdb.SetNX(ctx, in.keys.Seen(id), in.node, in.opts.Window).Result()
	} else {
		var n int64
		n, err = inboundScript.Run(ctx, in.rdb, []string{in.keys.Seen(id), in.keys.Print(fp)},
			in.node, in.opts.Window.Milliseconds(), in.opts.Fingerprint.Milliseconds()).Int64()
		ok = n == 1
	}
	if err != nil {
		in.unsure.Add(1)
		in.opts.Log.Warn("cluster: cannot claim an inbound message; it is accepted here", "id", id, "err", err)
		return true
	}
	return ok
}

// InboundMiddleware claims each inbound message of a bot this process
// drives before the reducer sees it (its ID, and its content key when
// fingerprints are on), and marks it Elsewhere when another process
// claimed either first. get finds the pool in the store's state.
func InboundMiddleware[S any](in *Inbound, get func(S) reducers.Pool) store.Middleware[S] {
	return func(api store.API[S]) func(next store.DispatchFunc) store.DispatchFunc {
		return func(next store.DispatchFunc) store.DispatchFunc {
			return func(a actions.Action) error {
				p, ok := actions.Message.Match(a)
				if !ok || p.MessageID == "" || p.Elsewhere || a.Meta.Node != "" {
					return next(a)
				}
				s := get(api.State())
				if b, known := s.Bots.Get(p.Bot); !known || b.Node != in.node || s.Selves.Has(p.From) || s.AcceptedBy(p.MessageID) != 0 {
					return next(a)
				}
				if !in.ClaimContent(context.Background(), p.MessageID, s.Fingerprint(p)) {
					p.Elsewhere = true
					a.Payload = p
				}
				return next(a)
			}
		}
	}
}
