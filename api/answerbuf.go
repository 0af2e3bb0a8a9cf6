package api

import (
	"sync"
)

// answerBuffers keeps the buffers of appended answers: a history's is a few hundred kilobytes,
// which a buffer grown afresh for each request would allocate twice over.
var answerBuffers = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledAnswer is the largest buffer kept for reuse; a rare huge answer's is let go.
const maxPooledAnswer = 4 << 20

// putAnswerBuffer gives a buffer of answerBuffers back, unless it grew too large to keep.
func putAnswerBuffer(b *[]byte) {
	if cap(*b) <= maxPooledAnswer {
		answerBuffers.Put(b)
	}
}
