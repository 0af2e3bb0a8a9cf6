package api

import (
	"bytes"
	"net/http"
	"sync"

	"github.com/klauspost/compress/gzhttp"
	"github.com/klauspost/compress/gzip"
)

// compressFrom is the smallest answer compressed: a write's answer (a few hundred bytes) goes as
// it is, and the tables a dashboard reads on every live event (the counties' 120 KB on the
// demo) go at a quarter of their size or less, over slow county links.
const compressFrom = 2048

// compressedTypes are the media types compressed: the API's JSON and CSV. Server-sent events
// are not (each must reach the page as it is written), nor files already compressed (PDF,
// xlsx, zip).
var compressedTypes = []string{"application/json", "text/csv"}

// compressed answers a GET (or HEAD) with gzip or zstd, as the client accepts, when h's answer is of
// compressedTypes and at least compressFrom bytes; others go as h writes them. An answer h has
// encoded itself (a cached gzip, the dashboard's files) keeps its encoding. ETags stay as they
// are: they name the ledger's versions (an employer's, for If-Match), not the bytes sent.
func compressed(h http.Handler) http.Handler {
	wrap, err := gzhttp.NewWrapper(gzhttp.MinSize(compressFrom), gzhttp.ContentTypes(compressedTypes),
		gzhttp.CompressionLevel(gzip.BestSpeed))
	if err != nil {
		panic("api: compression options: " + err.Error()) // constant options: a mistake here is a programming error
	}
	gz := wrap(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.ServeHTTP(w, r) // a write's answer is small, and its path pays nothing for this
			return
		}
		gz.ServeHTTP(w, r)
	})
}

// gzipped is an answer's bytes and, made once when a client first accepts it, their gzip: a
// cached answer read by many pages at one sequence is compressed once.
type gzipped struct {
	plain []byte
	once  sync.Once
	gz    []byte
}

// write sends the answer, gzipped when it is large enough and r accepts gzip (compressed says
// Vary: Accept-Encoding).
func (g *gzipped) write(w http.ResponseWriter, r *http.Request) {
	if len(g.plain) < compressFrom || !acceptsGzip(r.Header.Get("Accept-Encoding")) {
		_, _ = w.Write(g.plain)
		return
	}
	g.once.Do(func() {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed) // a valid level cannot fail
		_, _ = zw.Write(g.plain)                         // a bytes.Buffer does not fail
		_ = zw.Close()
		g.gz = b.Bytes()
	})
	w.Header().Set("Content-Encoding", "gzip")
	_, _ = w.Write(g.gz)
}
