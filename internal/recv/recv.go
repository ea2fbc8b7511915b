// Package recv is the receive at the top of an rxgo producer's loop: the
// next item of a subscription, unless the subscription has ended or
// either of the two contexts a producer watches has.
//
// # Usage
//
// An epic's producer watches the epic's context (the store stops) and
// its own (the subscriber stops observing):
//
//	rxgo.Defer([]rxgo.Producer{func(pctx context.Context, next chan<- rxgo.Item) {
//		items := in.Observe(rxgo.WithContext(ctx))
//		for {
//			it, ok := recv.Next(ctx, pctx, items)
//			if !ok {
//				return
//			}
//			// handle it
//		}
//	}}, rxgo.WithContext(ctx))
package recv

import "context"

// Next returns the next value from ch and true. It returns the zero value
// and false once ch is closed, or once ctx or pctx has ended (it may
// still return a value that was ready at that moment, as a select does).
func Next[T any](ctx, pctx context.Context, ch <-chan T) (T, bool) {
	select {
	case v, ok := <-ch:
		return v, ok
	case <-ctx.Done():
	case <-pctx.Done():
	}
	var zero T
	return zero, false
}
