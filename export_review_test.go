package hawechaty

// Bells returns how many Says wait on the pool's doorbell and how many
// spare waiters it keeps.
func Bells(p *Pool) (waiting, spare int) {
	return p.bell.count()
}
