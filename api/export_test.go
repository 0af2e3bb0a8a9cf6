package api

import "time"

// SetUploadBase sets what an upload is given before its first byte, for a test; restore puts it
// back.
func SetUploadBase(d time.Duration) (restore func()) {
	old := uploadBase
	uploadBase = d
	return func() { uploadBase = old }
}
