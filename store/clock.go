package store

import "time"

// reanchor is how long the stamp clock runs on the monotonic clock alone
// before it reads the wall clock again.
const reanchor = time.Second

// clock stamps actions. time.Now reads two clocks, the wall clock and the
// monotonic one; on a virtual machine each read costs about 25 ns, which
// is a fifth of a dispatch. clock reads the monotonic clock only, and adds
// the elapsed time to a wall-clock anchor taken at most a second earlier.
// A stamp therefore differs from time.Now only when the wall clock was
// stepped in the last second, and stamps never go backwards between
// anchors. Inside a testing/synctest bubble both clocks are the bubble's.
//
// A clock is not safe for concurrent use: the store calls it with its
// lock held, so stamps are also in dispatch order.
type clock struct {
	anchor time.Time
}

func (c *clock) now() time.Time {
	if !c.anchor.IsZero() {
		if d := time.Since(c.anchor); d >= 0 && d < reanchor {
			return c.anchor.Add(d)
		}
	}
	c.anchor = time.Now()
	return c.anchor
}
