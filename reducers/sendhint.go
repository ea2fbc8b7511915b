package reducers

// BotPosition returns where the bot of sd's current or last attempt
// (Send.Bot) was in Pool.Bots when the reducer chose it: a hint for a
// lookup kept by position (Table.At), which the caller checks against
// Send.Bot before use. -1 when the send has no bot yet.
func (sd *Send) BotPosition() int {
	if sd.Bot == "" {
		return -1
	}
	return int(sd.slot)
}
