package blockstore

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
)

func TestConcurrentIterators(t *testing.T) {
	s := openT(t, t.TempDir(), Options{Sync: SyncNever, MaxSegmentBytes: 4096})
	blocks := genChain(200)
	appendAll(t, s, blocks[:10])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	starts := []uint64{0, 0, 3, 10, 50, 150, 199, 0}
	var wg sync.WaitGroup
	errs := make(chan error, len(starts))
	for _, from := range starts {
		wg.Add(1)
		go func(from uint64) {
			defer wg.Done()
			it := s.Iterator(from)
			for n := from; n < uint64(len(blocks)); n++ {
				b, err := it.Next(ctx)
				if err != nil {
					errs <- err
					return
				}
				if !proto.Equal(b, blocks[n]) {
					errs <- errors.New("iterator got a wrong block")
					return
				}
			}
			if it.Position() != uint64(len(blocks)) {
				errs <- errors.New("position wrong at end")
			}
		}(from)
	}
	for _, b := range blocks[10:] {
		if err := s.Append(b); err != nil {
			t.Fatal(err)
		}
		if b.Header.Number%20 == 0 {
			time.Sleep(time.Millisecond) // let readers catch up and block
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestIteratorWaitsAndStops(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	blocks := genChain(2)
	appendAll(t, s, blocks[:1])
	it := s.Iterator(1)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := it.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next with no new block: err = %v", err)
	}

	got := make(chan error, 1)
	go func() {
		b, err := it.Next(context.Background())
		if err == nil && b.Header.Number != 1 {
			err = errors.New("wrong block")
		}
		got <- err
	}()
	time.Sleep(10 * time.Millisecond)
	appendAll(t, s, blocks[1:])
	if err := <-got; err != nil {
		t.Fatalf("Next woken by Append: %v", err)
	}

	go func() {
		_, err := it.Next(context.Background())
		got <- err
	}()
	time.Sleep(10 * time.Millisecond)
	s.Close()
	select {
	case err := <-got:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Next after Close: err = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not wake a waiting iterator")
	}
}
