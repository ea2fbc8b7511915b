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
// A message the local dedupe already holds, the pool's own messages, and
// messages without an ID (which no process can match with another's
// copy) are not claimed. When Redis does not answer within Timeout, the
// message is accepted here: across processes, a message may then reach
// the application twice, never zero times.
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

// Claim claims the message with id cluster-wide: true when this process
// is the first (or Redis could not say), false when another process
// claimed it.
func (in *Inbound) Claim(ctx context.Context, id string) bool {
	ctx, cancel := context.WithTimeout(ctx, in.opts.Timeout)
	defer cancel()
	ok, err := in.rdb.SetNX(ctx, in.keys.Seen(id), in.node, in.opts.Window).Result()
	if err != nil {
		in.unsure.Add(1)
		in.opts.Log.Warn("cluster: cannot claim an inbound message; it is accepted here", "id", id, "err", err)
		return true
	}
	return ok
}

// InboundMiddleware claims each inbound message of a bot this process
// drives before the reducer sees it, and marks it Elsewhere when another
// process claimed it first. get finds the pool in the store's state.
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
				if !in.Claim(context.Background(), p.MessageID) {
					p.Elsewhere = true
					a.Payload = p
				}
				return next(a)
			}
		}
	}
}
