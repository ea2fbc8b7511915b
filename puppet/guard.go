package puppet

import (
	"context"
	"fmt"
	"runtime/debug"
)

// PanicError is the error of a puppet method that panicked, as returned by
// a puppet wrapped with Guard.
type PanicError struct {
	Puppet string // the puppet's Name
	Method string // "Start", "Say", …
	Value  any    // what the method panicked with
	Stack  []byte // the panicking goroutine's stack
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("puppet %s: %s panicked: %v", e.Puppet, e.Method, e.Value)
}

// Guard returns p with its methods protected: a panic inside one of them
// is recovered and returned as a *PanicError, so that a faulty puppet
// fails the way a puppet fails (its bot is reset) rather than ending the
// program, since the pool calls puppets on its own goroutines. A panic in
// Say classifies as OutcomeUnknown: the message may have left. Events
// returns a closed channel if it panics, as for a puppet that ended.
//
// The result implements Dinger when p does. Guarding a guarded puppet
// returns it unchanged. The pool guards every puppet it is given.
func Guard(p Puppet) Puppet {
	switch p := p.(type) {
	case nil:
		return nil
	case *guarded, *guardedDinger:
		return p
	}
	g := &guarded{p: p}
	if d, ok := p.(Dinger); ok {
		return &guardedDinger{guarded: g, d: d}
	}
	return g
}

type guarded struct{ p Puppet }

// Unwrap returns the guarded puppet, for Capability.
func (g *guarded) Unwrap() Puppet { return g.p }

// recovered turns a panic into *err; it must be deferred directly.
func (g *guarded) recovered(method string, err *error) {
	if v := recover(); v != nil {
		*err = &PanicError{Puppet: g.name(), Method: method, Value: v, Stack: debug.Stack()}
	}
}

// name is Name, for an error message, when Name itself may panic.
func (g *guarded) name() (n string) {
	defer func() {
		if recover() != nil {
			n = fmt.Sprintf("%T", g.p)
		}
	}()
	return g.p.Name()
}

func (g *guarded) Name() string { return g.name() }

func (g *guarded) Start(ctx context.Context) (err error) {
	defer g.recovered("Start", &err)
	return g.p.Start(ctx)
}

func (g *guarded) Stop(ctx context.Context) (err error) {
	defer g.recovered("Stop", &err)
	return g.p.Stop(ctx)
}

func (g *guarded) Events() (ch <-chan Event) {
	defer func() {
		if recover() != nil {
			closed := make(chan Event)
			close(closed)
			ch = closed
		}
	}()
	return g.p.Events()
}

func (g *guarded) Say(ctx context.Context, to, text string) (err error) {
	defer g.recovered("Say", &err)
	return g.p.Say(ctx, to, text)
}

// TrySay is the guarded puppet's TrySay (TrySayer), called with the
// guarded puppet as self, or done false when it has none, or when self
// is not the guard. A panic counts as Say's: the message may have left.
func (g *guarded) TrySay(self Puppet, to, text string) (done bool, err error) {
	if !g.is(self) {
		return false, nil
	}
	done = true // what a panic reports, with its *PanicError
	defer g.recovered("TrySay", &err)
	return TrySay(g.p, to, text)
}

// is tells whether p is this guard, with or without its Dinger.
func (g *guarded) is(p Puppet) bool {
	switch p := p.(type) {
	case *guarded:
		return p == g
	case *guardedDinger:
		return p.guarded == g
	}
	return false
}

func (g *guarded) Rooms(ctx context.Context) (rooms []Room, err error) {
	defer g.recovered("Rooms", &err)
	return g.p.Rooms(ctx)
}

func (g *guarded) Contacts(ctx context.Context) (contacts []Contact, err error) {
	defer g.recovered("Contacts", &err)
	return g.p.Contacts(ctx)
}

func (g *guarded) Close() (err error) {
	defer g.recovered("Close", &err)
	return g.p.Close()
}

type guardedDinger struct {
	*guarded
	d Dinger
}

func (g *guardedDinger) Ding(ctx context.Context, data string) (err error) {
	defer g.recovered("Ding", &err)
	return g.d.Ding(ctx, data)
}
