// Package blockstore is weft's append-only block store for one channel,
// used by the orderer and the peer alike.
//
// Blocks live in segment files of checksummed records (see record.go). The
// indexes (number → position, tx id → location, header hash → number) are
// kept in memory and rebuilt by scanning on Open, so they can never disagree
// with the data. Open also verifies the whole hash chain.
package blockstore

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

var (
	// ErrNotFound: no such block or transaction.
	ErrNotFound = errors.New("not found")
	// ErrInvalidBlock: Append refused a block (numbering, chain or data hash).
	ErrInvalidBlock = errors.New("invalid block")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("block store closed")
)

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidBlock, fmt.Sprintf(format, args...))
}

// SyncPolicy says when appended data is forced to stable storage.
type SyncPolicy int

const (
	// SyncEveryAppend fsyncs before Append returns: an Append that returned
	// nil survives a crash or power loss.
	SyncEveryAppend SyncPolicy = iota
	// SyncNever leaves flushing to the OS (and to segment roll-over and
	// Close). Only for tests and benchmarks: a crash may lose acknowledged
	// blocks.
	SyncNever
)

// File is the append handle of a segment file.
type File interface {
	io.Writer
	Sync() error
	Truncate(size int64) error
}

// Options tune a Store. The zero value is the safe default.
type Options struct {
	Sync SyncPolicy
	// MaxSegmentBytes starts a new segment once a record would take the
	// current one past this size (default 64 MiB). A larger record gets a
	// segment of its own.
	MaxSegmentBytes int64
	Logger          *slog.Logger
	// WrapFile lets tests inject write and sync faults (disk full).
	WrapFile func(segment string, f File) File
}

const defaultSegmentBytes = 64 << 20

type location struct {
	seg int
	off int64
	len uint32 // body length
}

type txLocation struct {
	block uint64
	index int
}

// Store is safe for concurrent use: appends are serialised, reads and
// iterators run in parallel with them.
type Store struct {
	dir  string
	opts Options
	log  *slog.Logger
	lock *os.File

	appendMu sync.Mutex // serialises Append; held across write and fsync
	// Fields below appendMu are only touched with appendMu held.
	w      File     // append handle of the last segment
	wf     *os.File // the real file behind w
	wSize  int64
	failed error // set when a failed append could not be undone

	mu       sync.RWMutex // guards everything below
	closed   bool
	readers  []*os.File // one per segment, for ReadAt
	blocks   []location
	byHash   map[string]uint64
	txs      map[string]txLocation
	lastHash []byte
	appended chan struct{} // closed and replaced on each append, and on Close
}

func segmentName(i int) string { return fmt.Sprintf("seg-%08d.blk", i) }

// Open opens or creates the store in dir, recovering from a torn final
// write and rebuilding the indexes. Only one Store may have dir open.
func Open(dir string, opts Options) (*Store, error) {
	if opts.MaxSegmentBytes <= 0 {
		opts.MaxSegmentBytes = defaultSegmentBytes
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("block store %s: %w", dir, err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, fmt.Errorf("block store %s: lock file: %w", dir, err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("block store %s: already open elsewhere: %w", dir, err)
	}
	s := &Store{
		dir: dir, opts: opts, log: log, lock: lock,
		byHash:   make(map[string]uint64),
		txs:      make(map[string]txLocation),
		appended: make(chan struct{}),
	}
	if err := s.load(); err != nil {
		s.closeFiles()
		return nil, fmt.Errorf("block store %s: %w", dir, err)
	}
	return s, nil
}

// Height is the number of blocks stored, i.e. the next block's number.
func (s *Store) Height() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return uint64(len(s.blocks))
}

// LastHeaderHash is the header hash of the newest block (nil when empty):
// the previous_hash the next block must carry.
func (s *Store) LastHeaderHash() []byte {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]byte(nil), s.lastHash...)
}

// Close releases the files; iterators blocked in Next return ErrClosed.
func (s *Store) Close() error {
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.appended)
	s.mu.Unlock()
	var err error
	if s.wf != nil {
		err = s.wf.Sync()
	}
	if cerr := s.closeFiles(); err == nil {
		err = cerr
	}
	return err
}

func (s *Store) closeFiles() error {
	var errs []error
	if s.wf != nil {
		errs = append(errs, s.wf.Close())
	}
	for _, r := range s.readers {
		errs = append(errs, r.Close())
	}
	if s.lock != nil {
		errs = append(errs, s.lock.Close()) // also drops the flock
	}
	return errors.Join(errs...)
}

// syncDir makes a newly created segment's directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
