package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/epics"
	"github.com/hawechaty/hawechaty/internal/sleep"
	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/reducers"
	"github.com/redis/go-redis/v9"
)

// ForwardOptions configure a Forwarder. Zero fields take the defaults.
type ForwardOptions struct {
	// Prefix of every key (default "hawechaty").
	Prefix string
	// SendTimeout bounds the owner's attempt (default 30 s; use the
	// pool's, reducers.Config.SendTimeout).
	SendTimeout time.Duration
	// Pickup is how long a request may wait for its owner to read it
	// before the origin claims it back as not sent (default 5 s).
	Pickup time.Duration
	// Grace is how long, after Pickup + SendTimeout, the origin waits for
	// the result of a request its owner read (default 5 s).
	Grace time.Duration
	// Block bounds one blocking read (default 1 s).
	Block time.Duration
	// Log receives the forwarder's errors (default: discard).
	Log *slog.Logger
}

func (o ForwardOptions) defaults() ForwardOptions {
	if o.Prefix == "" {
		o.Prefix = "hawechaty"
	}
	if o.SendTimeout == 0 {
		o.SendTimeout = 30 * time.Second
	}
	if o.Pickup == 0 {
		o.Pickup = 5 * time.Second
	}
	if o.Grace == 0 {
		o.Grace = 5 * time.Second
	}
	if o.Block == 0 {
		o.Block = time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

// ownersGroup is the consumer group of every {P}:sends:node.
const ownersGroup = "owners"

// Owner is what the serving side of a Forwarder needs of its pool.
type Owner struct {
	// State returns the pool's latest state: a request is served only
	// for a bot it says this node drives.
	State func() reducers.Pool
	// Puppet returns a bot's puppet.
	Puppet func(bot string) (puppet.Puppet, bool)
	// Dispatch takes the attempt's send/RESULT into the owner's store, so
	// that the owner counts its bot's sends and failures (and ejects it)
	// as it does its own. Nil: not counted.
	Dispatch func(actions.Action) error
}

// Forwarder forwards send attempts to the process that drives their bot
// (Forward, the epics.Forwarder of the pool's send epic), and serves the
// attempts forwarded to this process (Run).
//
// A send the reducer routes to a bot that another process drives is
// forwarded to that process, its owner: the origin appends the request
// to {P}:sends:owner, a stream the owner reads in a consumer group; the
// owner makes the attempt on its puppet and, in one transaction, appends
// the result to {P}:results:origin, acknowledges the request and deletes
// it; the origin's reader hands the result to the attempt waiting for it,
// which reports it as the attempt's send/RESULT. The receipt names the
// owner (actions.SendResultPayload.Node).
//
// Exactly once, and truthful. A request that no consumer has read is
// deleted by the origin's claim-back script, atomically with the check
// that it is not pending: the owner can no longer read it, so it was
// certainly not sent, and the reducer may try another bot. The origin
// claims back a request that is not picked up within Pickup (an owner
// that died, or lags), and again when it stops waiting. A request that
// was picked up and has no result by Pickup + SendTimeout + Grace (its
// owner died during the attempt, or Redis lost the answer) ends with an
// unknown outcome: it may have been sent, and is never sent again. An
// owner sends only through a bot its state says it drives; otherwise it
// answers "not sent" without calling a puppet.
type Forwarder struct {
	rdb  redis.UniversalClient
	node string
	opts ForwardOptions
	keys Keys

	mu      sync.Mutex
	waiters map[string]chan actions.SendResultPayload
}

var _ epics.Forwarder = (*Forwarder)(nil)

// NewForwarder returns the forwarder of node on rdb.
func NewForwarder(rdb redis.UniversalClient, node string, opts ForwardOptions) (*Forwarder, error) {
	if rdb == nil {
		return nil, errors.New("cluster: forwarder: nil Redis client")
	}
	if err := checkNode(node); err != nil {
		return nil, err
	}
	opts = opts.defaults()
	if opts.SendTimeout < 0 || opts.Pickup < 0 || opts.Grace < 0 || opts.Block < 0 {
		return nil, fmt.Errorf("cluster: forward options %+v: negative durations", opts)
	}
	keys := Keys{Prefix: opts.Prefix}
	if err := keys.Validate(); err != nil {
		return nil, err
	}
	return &Forwarder{rdb: rdb, node: node, opts: opts, keys: keys, waiters: map[string]chan actions.SendResultPayload{}}, nil
}

// streamTTL is how long a request or result stream outlives its last
// write: a dead node's streams go away, and a live one's come back with
// the next request (the owner makes its group again).
func (fw *Forwarder) streamTTL() time.Duration {
	return 2 * (fw.opts.Pickup + fw.opts.SendTimeout + fw.opts.Grace)
}

func (fw *Forwarder) sendsKey(node string) string   { return fw.keys.Sends(node) }
func (fw *Forwarder) resultsKey(node string) string { return fw.keys.Results(node) }

// claimLua claims a request back (KEYS[1] the owner's stream, ARGV[1]
// the group, ARGV[2] the entry): "reclaimed" when no consumer had read it
// (it is deleted: it will never be), "picked" when it is pending (read,
// not answered), "done" when it was answered (acknowledged and deleted
// with its result appended).
const claimLua = `
local p = redis.pcall('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if type(p) == 'table' and p.err == nil and #p > 0 then
  return 'picked'
end
local e = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
if #e > 0 then
  redis.call('XDEL', KEYS[1], ARGV[2])
  return 'reclaimed'
end
return 'done'
`

var claimScript = redis.NewScript(claimLua)

// Forward hands one attempt to node, the bot's owner, and returns its
// result (see the package's notes on sends across processes).
func (fw *Forwarder) Forward(ctx context.Context, node string, sd reducers.Send) actions.SendResultPayload {
	res := actions.SendResultPayload{ID: sd.ID, Bot: sd.Bot, Attempt: sd.Attempt, Node: node}
	if err := checkNode(node); err != nil {
		res.Outcome, res.Error = actions.NotSent, err.Error()
		return res
	}
	req := fw.node + "/" + sd.ID + "/" + strconv.Itoa(sd.Attempt)
	ch := make(chan actions.SendResultPayload, 1)
	fw.mu.Lock()
	fw.waiters[req] = ch
	fw.mu.Unlock()
	defer func() {
		fw.mu.Lock()
		delete(fw.waiters, req)
		fw.mu.Unlock()
	}()

	values := []string{"req", req, "origin", fw.node, "send", sd.ID, "attempt", strconv.Itoa(sd.Attempt),
		"bot", sd.Bot, "to", sd.To, "text", sd.Text}
	if sd.Media != nil { // the owner sends it with the puppet's capability, as a local attempt would
		js, err := json.Marshal(sd.Media)
		if err != nil {
			res.Outcome, res.Error = actions.NotSent, fmt.Sprintf("cannot forward the media: %v", err)
			return res
		}
		values = append(values, "media", string(js))
	}
	var add *redis.StringCmd
	_, _ = fw.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		add = p.XAdd(ctx, &redis.XAddArgs{Stream: fw.sendsKey(node), Values: values})
		p.PExpire(ctx, fw.sendsKey(node), fw.streamTTL())
		return nil
	})
	entry, err := add.Result()
	if err != nil {
		if certainlyNotRun(err) {
			res.Outcome, res.Error = actions.NotSent, fmt.Sprintf("cannot forward to node %q: %v", node, err)
			return res
		}
		// The request may have been appended: only its result can tell.
		entry = ""
	}

	pickup := time.NewTimer(fw.opts.Pickup)
	defer pickup.Stop()
	final := time.NewTimer(fw.opts.Pickup + fw.opts.SendTimeout + fw.opts.Grace)
	defer final.Stop()
	unknown := func(why string) actions.SendResultPayload {
		res.Outcome, res.Error = actions.Unknown, why
		return res
	}
	for {
		select {
		case got := <-ch:
			got.ID, got.Bot, got.Attempt = sd.ID, sd.Bot, sd.Attempt
			return got
		case <-pickup.C:
			if entry == "" {
				continue
			}
			switch state, err := fw.claim(ctx, node, entry); {
			case err != nil:
				fw.opts.Log.Warn("cluster: cannot check a forwarded send", "node", node, "send", sd.ID, "err", err)
			case state == "reclaimed":
				res.Outcome, res.Error = actions.NotSent, fmt.Sprintf("node %q did not pick the send up within %v", node, fw.opts.Pickup)
				return res
			}
		case <-final.C:
			return fw.lastWord(ctx, ch, node, entry, res, unknown)
		case <-ctx.Done():
			// The pool stops: a request never read is claimed back; any
			// other may be under way.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			defer cancel()
			if entry != "" {
				if state, err := fw.claim(cctx, node, entry); err == nil && state == "reclaimed" {
					res.Outcome, res.Error = actions.NotSent, "the pool stopped before node "+strconv.Quote(node)+" picked the send up"
					return res
				}
			}
			return unknown(fmt.Sprintf("the pool stopped while node %q had the send", node))
		}
	}
}

// lastWord ends an attempt whose result did not come in time: claimed
// back if it was never read, else unknown (a result that the reader is
// about to hand over is taken).
func (fw *Forwarder) lastWord(ctx context.Context, ch chan actions.SendResultPayload, node, entry string,
	res actions.SendResultPayload, unknown func(string) actions.SendResultPayload) actions.SendResultPayload {
	if entry == "" {
		return unknown(fmt.Sprintf("the request to node %q may have been appended, and no result came", node))
	}
	state, err := fw.claim(ctx, node, entry)
	switch {
	case err != nil:
		return unknown(fmt.Sprintf("no result from node %q, and Redis cannot say whether it picked the send up: %v", node, err))
	case state == "reclaimed":
		res.Outcome, res.Error = actions.NotSent, fmt.Sprintf("node %q never picked the send up", node)
		return res
	case state == "done":
		// Answered: the result is in our stream; give the reader a moment.
		t := time.NewTimer(fw.opts.Block + fw.opts.Grace)
		defer t.Stop()
		select {
		case got := <-ch:
			got.ID, got.Bot, got.Attempt = res.ID, res.Bot, res.Attempt
			return got
		case <-t.C:
		case <-ctx.Done():
		}
		return unknown(fmt.Sprintf("node %q answered, and the answer was lost", node))
	}
	return unknown(fmt.Sprintf("node %q picked the send up and gave no result within %v", node, fw.opts.SendTimeout+fw.opts.Grace))
}

// claim runs the claim-back script on node's request entry.
func (fw *Forwarder) claim(ctx context.Context, node, entry string) (string, error) {
	return claimScript.Run(ctx, fw.rdb, []string{fw.sendsKey(node)}, ownersGroup, entry).Text()
}

// certainlyNotRun reports whether a command's error proves that Redis did
// not run it: the connection could not be made, or Redis answered with
// an error.
func certainlyNotRun(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var rerr redis.Error
	return errors.As(err, &rerr)
}

// Run serves the attempts forwarded to this node and hands the results
// of the attempts this node forwarded to their waiters, until ctx ends.
func (fw *Forwarder) Run(ctx context.Context, o Owner) error {
	if o.State == nil || o.Puppet == nil {
		return errors.New("cluster: forwarder: Owner needs State and Puppet")
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { fw.readResults(ctx) })
	fw.serve(ctx, o, &wg)
	return nil
}

// readResults reads this node's result stream and hands each result to
// its waiter (a result nobody waits for any more is dropped), deleting
// what it read.
func (fw *Forwarder) readResults(ctx context.Context) {
	key, last := fw.resultsKey(fw.node), "0-0"
	for ctx.Err() == nil {
		res, err := fw.rdb.XRead(ctx, &redis.XReadArgs{Streams: []string{key, last}, Count: 256, Block: fw.opts.Block}).Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			if ctx.Err() == nil {
				fw.opts.Log.Warn("cluster: cannot read forwarded results; retrying", "err", err)
				sleep.For(ctx, fw.opts.Block)
			}
			continue
		}
		var ids []string
		for _, s := range res {
			for _, m := range s.Messages {
				last = m.ID
				ids = append(ids, m.ID)
				fw.deliver(m)
			}
		}
		if len(ids) > 0 {
			if err := fw.rdb.XDel(ctx, key, ids...).Err(); err != nil && ctx.Err() == nil {
				fw.opts.Log.Warn("cluster: cannot delete read results", "err", err)
			}
		}
	}
}

func (fw *Forwarder) deliver(m redis.XMessage) {
	str := func(k string) string { s, _ := m.Values[k].(string); return s }
	var o actions.Outcome
	if err := o.UnmarshalText([]byte(str("outcome"))); err != nil {
		fw.opts.Log.Warn("cluster: a forwarded result that does not decode", "id", m.ID, "err", err)
		return
	}
	fw.mu.Lock()
	ch, ok := fw.waiters[str("req")]
	fw.mu.Unlock()
	if !ok {
		return
	}
	select {
	case ch <- actions.SendResultPayload{Bot: str("bot"), Outcome: o, Error: str("error"), Node: str("node")}:
	default: // a second answer to one request: the first stands
	}
}

// serve reads this node's request stream in the owners group and runs
// each attempt on its own goroutine.
func (fw *Forwarder) serve(ctx context.Context, o Owner, wg *sync.WaitGroup) {
	key := fw.sendsKey(fw.node)
	ready := false
	for ctx.Err() == nil {
		if !ready {
			err := fw.rdb.XGroupCreateMkStream(ctx, key, ownersGroup, "0").Err()
			if err != nil && !isBusyGroup(err) {
				if ctx.Err() == nil {
					fw.opts.Log.Warn("cluster: cannot create the forwarded sends' group; retrying", "err", err)
					sleep.For(ctx, fw.opts.Block)
				}
				continue
			}
			ready = true
		}
		res, err := fw.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: ownersGroup, Consumer: fw.node,
			Streams: []string{key, ">"}, Count: 64, Block: fw.opts.Block}).Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			if ctx.Err() == nil {
				fw.opts.Log.Warn("cluster: cannot read forwarded sends; retrying", "err", err)
				ready = !isNoGroup(err)
				sleep.For(ctx, fw.opts.Block)
			}
			continue
		}
		for _, s := range res {
			for _, m := range s.Messages {
				wg.Go(func() { fw.attempt(ctx, o, m) })
			}
		}
	}
}

func isBusyGroup(err error) bool {
	return err != nil && len(err.Error()) >= 9 && err.Error()[:9] == "BUSYGROUP"
}
func isNoGroup(err error) bool {
	return err != nil && len(err.Error()) >= 7 && err.Error()[:7] == "NOGROUP"
}

// attempt makes one forwarded attempt and answers it. A process that
// stops (ctx ends) during the attempt does not answer: its origin ends
// the attempt as unknown.
func (fw *Forwarder) attempt(ctx context.Context, o Owner, m redis.XMessage) {
	str := func(k string) string { s, _ := m.Values[k].(string); return s }
	origin, bot, sendID := str("origin"), str("bot"), str("send")
	attempt, _ := strconv.Atoi(str("attempt"))
	res := actions.SendResultPayload{ID: "fwd:" + str("req"), Bot: bot, Attempt: attempt, Node: fw.node}
	if err := checkNode(origin); err != nil {
		fw.opts.Log.Warn("cluster: a forwarded send without an origin is dropped", "id", m.ID, "err", err)
		fw.ack(ctx, m.ID)
		return
	}
	b, ok := o.State().Bots.Get(bot)
	var pup puppet.Puppet
	switch {
	case !ok || b.Node != fw.node:
		res.Outcome, res.Error = actions.NotSent, fmt.Sprintf("node %q does not drive bot %q", fw.node, bot)
	case !b.Available:
		res.Outcome, res.Error = actions.NotSent, fmt.Sprintf("bot %q is not available on node %q: %s", bot, fw.node, b.Reason)
	default:
		pup, ok = o.Puppet(bot)
		if !ok {
			res.Outcome, res.Error = actions.NotSent, fmt.Sprintf("node %q has no puppet for bot %q", fw.node, bot)
		}
	}
	var media *actions.Media
	if js := str("media"); js != "" && pup != nil {
		media = new(actions.Media)
		if err := json.Unmarshal([]byte(js), media); err != nil {
			res.Outcome, res.Error = actions.NotSent, fmt.Sprintf("a forwarded send's media is unreadable: %v", err)
			pup = nil
		}
	}
	if pup != nil {
		res.Outcome, res.Error = fw.say(ctx, pup, str("to"), str("text"), media)
		if o.Dispatch != nil {
			if err := o.Dispatch(actions.SendResult.New(res).WithSource("cluster/forwarded")); err != nil {
				fw.opts.Log.Debug("cluster: cannot count a forwarded attempt", "err", err)
			}
		}
	}
	if ctx.Err() != nil {
		if pup != nil {
			return // stopped during the attempt: no answer (the origin says "unknown")
		}
		// Stopping, and certain that nothing was sent: say so.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), fw.opts.Block)
		defer cancel()
	}
	_, err := fw.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.XAdd(ctx, &redis.XAddArgs{Stream: fw.resultsKey(origin), Values: []string{
			"req", str("req"), "send", sendID, "bot", bot, "outcome", res.Outcome.String(), "error", res.Error, "node", fw.node}})
		p.PExpire(ctx, fw.resultsKey(origin), fw.streamTTL())
		p.XAck(ctx, fw.sendsKey(fw.node), ownersGroup, m.ID)
		p.XDel(ctx, fw.sendsKey(fw.node), m.ID)
		return nil
	})
	if err != nil && ctx.Err() == nil {
		fw.opts.Log.Warn("cluster: cannot answer a forwarded send (its origin will call it unknown)", "origin", origin, "send", sendID, "err", err)
	}
}

// ack drops a request that cannot be served.
func (fw *Forwarder) ack(ctx context.Context, id string) {
	_, _ = fw.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.XAck(ctx, fw.sendsKey(fw.node), ownersGroup, id)
		p.XDel(ctx, fw.sendsKey(fw.node), id)
		return nil
	})
}

// say is the attempt on the puppet, bounded by SendTimeout even when the
// puppet ignores its context.
func (fw *Forwarder) say(ctx context.Context, pup puppet.Puppet, to, text string, media *actions.Media) (actions.Outcome, string) {
	actx, cancel := context.WithTimeout(ctx, fw.opts.SendTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		if media != nil {
			done <- puppet.SendMedia(actx, pup, to, *media)
			return
		}
		done <- pup.Say(actx, to, text)
	}()
	select {
	case err := <-done:
		if err == nil {
			return actions.Delivered, ""
		}
		return puppet.Classify(err), err.Error()
	case <-actx.Done():
		return actions.Unknown, fmt.Sprintf("no answer within %v", fw.opts.SendTimeout)
	}
}
