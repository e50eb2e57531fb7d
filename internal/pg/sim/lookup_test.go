package sim

import "slices"

// lookup finds a PG personality by its i'mport provider code.
func lookup(provider string) (Personality, bool) {
	p, ok := personalities[provider]
	if ok {
		p.Window = slices.Clone(p.Window)
	}
	return p, ok
}
