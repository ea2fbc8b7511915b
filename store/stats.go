package store

// EpicBacklog returns the number of actions handed to the epics that they
// have not taken yet: queued for an epic that lags, waiting in a mailbox
// not yet claimed, or in the channel of an epic's first operator. An
// action counts once for every epic (and every hot subscription to the
// actions) it was handed to. A backlog that keeps growing means an epic
// does not keep up with the dispatch rate; it is 0 for a store that was
// not started or has no epics. It includes the actions queued for the
// epics that take them directly (DirectInput).
//
// EpicBacklog is safe from any goroutine, takes no store lock and costs
// one short lock per subscription.
func (s *Store[S]) EpicBacklog() int {
	n := int(s.directs.queued.Load())
	for _, in := range s.actionHub.all() {
		n += in.backlog()
	}
	return n
}
