package registry

// SetStatsFault makes r call f before each step of its counter upkeep; an
// error from f fails that step. nil removes it.
func SetStatsFault(r *Registry, f func(step string) error) {
	r.stats.SetFault(f)
}
