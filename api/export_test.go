package api

import "time"

// SetUploadBase sets what an upload is given before its first byte, for a test; restore puts it
// back.
func SetUploadBase(d time.Duration) (restore func()) {
	old := uploadBase
	uploadBase = d
	return func() { uploadBase = old }
}

// SetNoticeProgressEvery sets how many notices of a batch the log reports progress after, for a
// test; restore puts it back.
func SetNoticeProgressEvery(n int) (restore func()) {
	old := noticeProgressEvery
	noticeProgressEvery = n
	return func() { noticeProgressEvery = old }
}
