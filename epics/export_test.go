package epics

import "github.com/hawechaty/hawechaty/actions"

// Asked returns what handlers asked fx for: the actions to emit, and how
// many effects to run.
func Asked(fx *Effects) ([]actions.Action, int) { return fx.emit, len(fx.run) }
