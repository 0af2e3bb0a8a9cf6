package projections

// HeldEvents is heldEvents for the package's external tests and benchmarks.
type HeldEvents = heldEvents
