package api

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"time"
)

// SetUploadBase sets what an upload is given before its first byte, for a test; restore puts it
// back.
func SetUploadBase(d time.Duration) (restore func()) {
	old := uploadBase
	uploadBase = d
	return func() { uploadBase = old }
}

// SetImportTime sets how long an import of rows may take, for a test; restore puts it back.
func SetImportTime(f func(rows int) time.Duration) (restore func()) {
	old := importTime
	importTime = f
	return func() { importTime = old }
}

// SetNoticeProgressEvery sets how many notices of a batch the log reports progress after, for a
// test; restore puts it back.
func SetNoticeProgressEvery(n int) (restore func()) {
	old := noticeProgressEvery
	noticeProgressEvery = n
	return func() { noticeProgressEvery = old }
}

// SetNoticeChunk sets how many notices of a batch are numbered and recorded at once, for a test;
// restore puts it back.
func SetNoticeChunk(n int) (restore func()) {
	old := noticeChunk
	noticeChunk = n
	return func() { noticeChunk = old }
}

// RecordedKey is the idempotency key and body hash the server records a write under when
// principal sends body to path with key: a test records a write as an older build did.
func RecordedKey(principal, key, method, path, body string) (string, string) {
	var v any
	d := json.NewDecoder(strings.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		panic(err)
	}
	canon, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return "principal\x00" + principal + "\x00" + key, bodyHash(httptest.NewRequest(method, path, nil), canon)
}
