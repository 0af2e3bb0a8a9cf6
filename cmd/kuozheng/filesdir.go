package main

import "os"

// filesDir is the folder whose disk the ledger's files fill: the data folder of the embedded
// server, or on --nats the temporary folder that holds the store's scratch files (its archive
// and idempotency runs, about a quarter of the stream's size).
func (f storeFlags) filesDir() string {
	if f.natsURL != "" {
		return os.TempDir()
	}
	return f.data
}
