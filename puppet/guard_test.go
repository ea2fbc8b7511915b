package puppet_test

import (
	"context"
	"errors"
	"testing"

	"github.com/hawechaty/hawechaty/puppet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// panicky panics in every method when boom is set, and otherwise answers
// with err.
type panicky struct {
	boom bool
	err  error
}

func (p *panicky) maybe() {
	if p.boom {
		panic("boom")
	}
}

func (p *panicky) Name() string                              { p.maybe(); return "panicky" }
func (p *panicky) Start(context.Context) error               { p.maybe(); return p.err }
func (p *panicky) Stop(context.Context) error                { p.maybe(); return p.err }
func (p *panicky) Events() <-chan puppet.Event               { p.maybe(); return make(chan puppet.Event) }
func (p *panicky) Say(context.Context, string, string) error { p.maybe(); return p.err }
func (p *panicky) Rooms(context.Context) ([]puppet.Room, error) {
	p.maybe()
	return []puppet.Room{{ID: "r"}}, p.err
}
func (p *panicky) Contacts(context.Context) ([]puppet.Contact, error) { p.maybe(); return nil, p.err }
func (p *panicky) Close() error                                       { p.maybe(); return p.err }

type panickyDinger struct{ panicky }

func (p *panickyDinger) Ding(context.Context, string) error { p.maybe(); return p.err }

func TestGuardTurnsPanicsIntoErrors(t *testing.T) {
	g := puppet.Guard(&panickyDinger{panicky{boom: true}})
	ctx := context.Background()
	calls := map[string]func() error{
		"Start":    func() error { return g.Start(ctx) },
		"Stop":     func() error { return g.Stop(ctx) },
		"Say":      func() error { return g.Say(ctx, "to", "hi") },
		"Rooms":    func() error { _, err := g.Rooms(ctx); return err },
		"Contacts": func() error { _, err := g.Contacts(ctx); return err },
		"Close":    func() error { return g.Close() },
		"Ding":     func() error { return g.(puppet.Dinger).Ding(ctx, "d") },
	}
	for method, call := range calls {
		var pe *puppet.PanicError
		err := call()
		require.ErrorAs(t, err, &pe, method)
		assert.Equal(t, method, pe.Method)
		assert.Equal(t, "boom", pe.Value)
		assert.Contains(t, err.Error(), method+" panicked: boom")
		assert.NotEmpty(t, pe.Stack)
	}
	assert.Equal(t, puppet.OutcomeUnknown, puppet.Classify(g.Say(ctx, "to", "hi")), "a panic in Say may have sent")
	assert.Equal(t, "*puppet_test.panickyDinger", g.Name(), "a panicking Name falls back to the type")
	_, open := <-g.Events()
	assert.False(t, open, "a panicking Events gives a closed channel")
}

func TestGuardPassesResultsThrough(t *testing.T) {
	sentinel := errors.New("refused")
	inner := &panicky{err: sentinel}
	g := puppet.Guard(inner)
	ctx := context.Background()
	assert.ErrorIs(t, g.Say(ctx, "to", "hi"), sentinel)
	rooms, err := g.Rooms(ctx)
	assert.ErrorIs(t, err, sentinel)
	assert.Equal(t, []puppet.Room{{ID: "r"}}, rooms)
	assert.Equal(t, "panicky", g.Name())
	_, isDinger := g.(puppet.Dinger)
	assert.False(t, isDinger, "Guard adds no Dinger to a puppet without one")
	assert.Same(t, g, puppet.Guard(g), "guarding twice changes nothing")
	assert.Nil(t, puppet.Guard(nil))
}

type panickyTrier struct{ panicky }

func (p *panickyTrier) TrySay(puppet.Puppet, string, string) (bool, error) {
	p.maybe()
	return true, p.err
}

// renamer wraps a puppet and changes what Say sends: it has no TrySay,
// so the guard must not find the wrapped puppet's.
type renamer struct{ puppet.Puppet }

func (r renamer) Unwrap() puppet.Puppet { return r.Puppet }

func TestGuardTrySay(t *testing.T) {
	p := &panickyTrier{panicky{boom: true}}
	g := puppet.Guard(p)
	done, err := puppet.TrySay(g, "to", "hi")
	assert.True(t, done, "a panic in TrySay may have sent")
	var pe *puppet.PanicError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "TrySay", pe.Method)
	assert.Equal(t, puppet.OutcomeUnknown, puppet.Classify(err))

	p.boom, p.err = false, puppet.ErrNotSent
	done, err = puppet.TrySay(g, "to", "hi")
	assert.True(t, done)
	assert.ErrorIs(t, err, puppet.ErrNotSent)

	done, err = puppet.TrySay(puppet.Guard(&panicky{}), "to", "hi")
	assert.False(t, done, "a puppet without TrySay never answers at once")
	assert.NoError(t, err)
	done, err = puppet.TrySay(puppet.Guard(renamer{p}), "to", "hi")
	assert.False(t, done, "a wrapper's Say is not bypassed for the TrySay it wraps")
	assert.NoError(t, err)
	// A wrapper around the guard that inherits its TrySay, as embedding
	// the guard would, calls it with itself as self: the guard declines.
	done, err = puppet.TrySay(ownSay{g, g.(puppet.TrySayer)}, "to", "hi")
	assert.False(t, done, "nor is the Say of a wrapper around the guard")
	assert.NoError(t, err)
}

// ownSay wraps a puppet, with a Say of its own in a real program, and
// inherits t's TrySay.
type ownSay struct {
	puppet.Puppet
	puppet.TrySayer
}
