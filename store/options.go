package store

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/hawechaty/hawechaty/actions"
)

// Option configures a Store.
type Option[S any] interface {
	apply(*config[S])
}

type config[S any] struct {
	log        *slog.Logger
	middleware []Middleware[S]
	epics      []namedEpic[S]
	hooks      []func(actions.Action, *S)
	errs       []error
}

func (c *config[S]) validate() error {
	seen := map[string]bool{}
	for _, e := range c.epics {
		if seen[e.name] {
			c.errs = append(c.errs, fmt.Errorf("store: epic %q added twice", e.name))
		}
		seen[e.name] = true
	}
	return errors.Join(c.errs...)
}

type optionFunc[S any] func(*config[S])

func (f optionFunc[S]) apply(c *config[S]) { f(c) }

// WithLogger sets the logger for epic failures and refused actions. The
// default discards.
func WithLogger[S any](l *slog.Logger) Option[S] {
	return optionFunc[S](func(c *config[S]) {
		if l == nil {
			c.errs = append(c.errs, errors.New("store: WithLogger(nil)"))
			return
		}
		c.log = l
	})
}

// WithMiddleware appends middleware. The first one given is the outermost:
// it sees an action first.
func WithMiddleware[S any](mw ...Middleware[S]) Option[S] {
	return optionFunc[S](func(c *config[S]) {
		for _, m := range mw {
			if m == nil {
				c.errs = append(c.errs, errors.New("store: WithMiddleware(nil)"))
				continue
			}
			c.middleware = append(c.middleware, m)
		}
	})
}

// WithEpic adds an epic under a name used in logs and in actions.EpicFailed.
func WithEpic[S any](name string, e Epic[S]) Option[S] {
	return optionFunc[S](func(c *config[S]) {
		if name == "" || e == nil {
			c.errs = append(c.errs, fmt.Errorf("store: WithEpic(%q) needs a name and an epic", name))
			return
		}
		c.epics = append(c.epics, namedEpic[S]{name: name, fn: e})
	})
}
