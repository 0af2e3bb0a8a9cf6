package eventstore

import "time"

// clockBase is when the package was initialised, with the monotonic clock's reading.
var clockBase = time.Now()

// monotonic is the nanoseconds since clockBase by the monotonic clock (never 0), for the
// moments the store keeps in atomic integers to measure "how long since": the wall clock may
// jump (backwards when it is corrected), which would make such a wait last as long as the jump.
func monotonic() int64 { return int64(time.Since(clockBase)) + 1 }
