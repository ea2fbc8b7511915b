package rx

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/reactivex/rxgo/v2"
)

// ErrNilFunction is the error an operator emits when it is given a nil
// function it cannot do without (SwitchMapBy's key or project).
var ErrNilFunction = errors.New("rx: a nil function")

// ErrPanicked is wrapped by the error an operator emits when a function
// it was given (a project, key, eq or item function) panics: as in RxJS,
// where an exception thrown by such a function is sent to the subscriber
// as an error notification, the output fails with it instead of the
// program crashing on an rxgo goroutine. When the panic value is an error,
// the emitted error wraps it too.
var ErrPanicked = errors.New("rx: a function given to an operator panicked")

// panicError builds the error for a recovered panic value r.
func panicError(r any) error {
	if err, ok := r.(error); ok {
		return fmt.Errorf("%w: %w", ErrPanicked, err)
	}
	return fmt.Errorf("%w: %v", ErrPanicked, r)
}

// guard calls f and turns a panic into an error wrapping ErrPanicked.
func guard[T any](f func() T) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError(r)
		}
	}()
	return f(), nil
}

// failed is an Observable that emits err as soon as it is observed.
func failed(err error) rxgo.Observable {
	return rxgo.Defer([]rxgo.Producer{func(ctx context.Context, next chan<- rxgo.Item) {
		send(ctx, next, rxgo.Error(err))
	}})
}

// at returns start + n×period, saturated at the largest time instead of
// wrapping around: a huge period means "never again", not "at once".
func at(start time.Time, n int, period time.Duration) time.Time {
	if n == 0 || period <= 0 {
		return start
	}
	if time.Duration(n) > maxDuration/period {
		return start.Add(maxDuration)
	}
	return start.Add(time.Duration(n) * period)
}

const maxDuration = time.Duration(1<<63 - 1)
