package harness

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"sort"

	"google.golang.org/protobuf/proto"

	"weft/ledger/blockstore"
	"weft/ledger/statedb"
	"weft/peer/channel"
	"weft/wire/common"
	"weft/wire/ledger/rwset"
	"weft/wire/peer"
)

// LedgerSnapshot summarises a stopped peer's channel ledger, read offline,
// so that two peers' ledgers can be compared.
type LedgerSnapshot struct {
	Height uint64
	// BlockHashes are the header hashes, by block number.
	BlockHashes [][]byte
	// Filters are the TRANSACTIONS_FILTER metadata, by block number.
	Filters [][]byte
	// Codes counts transactions by validation code over all blocks.
	Codes map[peer.TxValidationCode]int
	// Savepoint is the last block whose writes the state holds.
	Savepoint uint64
	// Namespaces are those written by any transaction in the blocks.
	Namespaces []string
	Keys       int
	// StateHash is SHA-256 over every key of every namespace, in order,
	// with its value, metadata and version.
	StateHash [32]byte
}

// ReadLedger opens the block store and state database in dir (a peer's
// ledgers/<channel> directory; the peer must be stopped) and summarises them.
func ReadLedger(dir string) (*LedgerSnapshot, error) {
	store, err := blockstore.Open(filepath.Join(dir, channel.BlocksDir), blockstore.Options{})
	if err != nil {
		return nil, err
	}
	defer store.Close()
	s := &LedgerSnapshot{Height: store.Height(), Codes: map[peer.TxValidationCode]int{}}
	nss := map[string]bool{}
	for n := uint64(0); n < s.Height; n++ {
		b, err := store.Block(n)
		if err != nil {
			return nil, fmt.Errorf("block %d: %w", n, err)
		}
		s.BlockHashes = append(s.BlockHashes, blockstore.HeaderHash(b.GetHeader()))
		md := b.GetMetadata().GetMetadata()
		var filter []byte
		if int(common.BlockMetadataIndex_TRANSACTIONS_FILTER) < len(md) {
			filter = md[common.BlockMetadataIndex_TRANSACTIONS_FILTER]
		}
		if len(filter) != len(b.GetData().GetData()) {
			return nil, fmt.Errorf("block %d: transactions filter has %d entries for %d transactions", n, len(filter), len(b.GetData().GetData()))
		}
		s.Filters = append(s.Filters, filter)
		for i, raw := range b.GetData().GetData() {
			s.Codes[peer.TxValidationCode(filter[i])]++
			if err := namespaces(raw, nss); err != nil {
				return nil, fmt.Errorf("block %d tx %d: %w", n, i, err)
			}
		}
	}

	db, err := statedb.Open(filepath.Join(dir, channel.StateDBFile))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	s.Savepoint, _ = db.Savepoint()
	for ns := range nss {
		s.Namespaces = append(s.Namespaces, ns)
	}
	sort.Strings(s.Namespaces)
	h := sha256.New()
	for _, ns := range s.Namespaces {
		it, err := db.GetRange(ns, "", "")
		if err != nil {
			return nil, fmt.Errorf("namespace %q: %w", ns, err)
		}
		for {
			kv, err := it.Next()
			if err != nil {
				it.Close()
				return nil, fmt.Errorf("namespace %q: %w", ns, err)
			}
			if kv == nil {
				break
			}
			vv, err := db.Get(ns, kv.Key)
			if err != nil || vv == nil {
				it.Close()
				return nil, fmt.Errorf("namespace %q key %q: listed but get gave %v, %v", ns, kv.Key, vv, err)
			}
			for _, f := range [][]byte{[]byte(ns), []byte(kv.Key), vv.Value, vv.Metadata} {
				writeField(h, f)
			}
			binary.Write(h, binary.BigEndian, [2]uint64{vv.Version.BlockNum, vv.Version.TxNum})
			s.Keys++
		}
		it.Close()
	}
	copy(s.StateHash[:], h.Sum(nil))
	return s, nil
}

// writeField writes a length-prefixed field so that field boundaries are
// part of the hash.
func writeField(h interface{ Write([]byte) (int, error) }, f []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(f)))
	h.Write(n[:])
	h.Write(f)
}

// namespaces adds the namespaces of an endorser transaction's read-write
// sets to into.
func namespaces(raw []byte, into map[string]bool) error {
	tx, err := channel.DecodeTx(raw)
	if err != nil {
		return err
	}
	for _, a := range tx.Actions {
		var rws rwset.TxReadWriteSet
		if err := proto.Unmarshal(a.GetResults(), &rws); err != nil {
			return fmt.Errorf("read-write set: %w", err)
		}
		for _, ns := range rws.GetNsRwset() {
			into[ns.GetNamespace()] = true
		}
	}
	return nil
}

// Diff lists how two snapshots differ (nothing when they are identical).
func (s *LedgerSnapshot) Diff(o *LedgerSnapshot) []string {
	var d []string
	if s.Height != o.Height {
		d = append(d, fmt.Sprintf("height %d vs %d", s.Height, o.Height))
	}
	for n := 0; n < len(s.BlockHashes) && n < len(o.BlockHashes); n++ {
		if !bytes.Equal(s.BlockHashes[n], o.BlockHashes[n]) {
			d = append(d, fmt.Sprintf("block %d: hash %x vs %x", n, s.BlockHashes[n], o.BlockHashes[n]))
		}
		if !bytes.Equal(s.Filters[n], o.Filters[n]) {
			d = append(d, fmt.Sprintf("block %d: transactions filter %v vs %v", n, s.Filters[n], o.Filters[n]))
		}
	}
	if s.Savepoint != o.Savepoint {
		d = append(d, fmt.Sprintf("state savepoint %d vs %d", s.Savepoint, o.Savepoint))
	}
	if fmt.Sprint(s.Namespaces) != fmt.Sprint(o.Namespaces) {
		d = append(d, fmt.Sprintf("namespaces %v vs %v", s.Namespaces, o.Namespaces))
	}
	if s.Keys != o.Keys || s.StateHash != o.StateHash {
		d = append(d, fmt.Sprintf("state: %d keys hash %x vs %d keys hash %x", s.Keys, s.StateHash, o.Keys, o.StateHash))
	}
	return d
}
