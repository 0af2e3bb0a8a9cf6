package eventstore

import "syscall"

// mapMemory returns n bytes of zeroed memory outside the Go heap, which the collector neither
// counts against the memory limit nor scans: for buffers that stay as long as their owner. The
// memory is returned with unmapMemory, after which nothing may touch it.
func mapMemory(n int) ([]byte, error) {
	return syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
}

// unmapMemory returns memory from mapMemory.
func unmapMemory(b []byte) {
	if b != nil {
		_ = syscall.Munmap(b)
	}
}
