// Package syncbuf is a bytes.Buffer that several goroutines may write at
// once: the sink of a logger whose handler writes from any goroutine, or
// the output of a child process, read back by a test.
package syncbuf

import (
	"bytes"
	"sync"
)

// Buffer collects what is written to it. Write and String are safe for
// concurrent use. The zero Buffer is empty and ready to use; it must not
// be copied after first use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
