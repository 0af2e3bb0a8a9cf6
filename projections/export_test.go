package projections

// HeldEvents is heldEvents for the package's external tests and benchmarks.
type HeldEvents = heldEvents

// SeriesFolded is how many employers the runner has summed into the series it keeps.
func (r *Runner) SeriesFolded() uint64 { return r.seriesFolded.Load() }

// SeriesKeepsViews reports whether the series last asked for holds the views it was summed from.
func (r *Runner) SeriesKeepsViews() bool {
	r.seriesMu.Lock()
	defer r.seriesMu.Unlock()
	return len(r.kept) > 0 && r.kept[0].base != nil
}

// SeriesKept reports whether the runner keeps the sums of a series for the next.
func (r *Runner) SeriesKept() bool {
	r.seriesMu.Lock()
	defer r.seriesMu.Unlock()
	return len(r.kept) > 0
}
