package statedb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// valueFormat tags the encoding of state values so a later format change can
// still read old files.
const valueFormat = 1

// historySuffixLen is the length of "\x00" block(8) "\x00" tx(8) that follows
// ns \x00 key in a history key.
const historySuffixLen = 1 + 8 + 1 + 8

func checkNamespace(ns string) error {
	if strings.IndexByte(ns, 0) >= 0 {
		return fmt.Errorf("namespace %q: must not contain \\x00", ns)
	}
	return nil
}

func stateKey(ns, key string) []byte {
	b := make([]byte, 0, len(ns)+1+len(key))
	b = append(b, ns...)
	b = append(b, 0)
	return append(b, key...)
}

// splitStateKey returns the key part of a state key in namespace prefix p
// (ns \x00).
func splitStateKey(p, k []byte) string { return string(k[len(p):]) }

func nsPrefix(ns string) []byte { return append([]byte(ns), 0) }

// historyPrefix is what all history keys of (ns, key) start with. Keys of
// other keys that extend key with "\x00..." share the prefix too; they are
// told apart by length (see isHistoryOf).
func historyPrefix(ns, key string) []byte { return append(stateKey(ns, key), 0) }

func historyKey(ns, key string, v Version) []byte {
	b := historyPrefix(ns, key)
	b = binary.BigEndian.AppendUint64(b, v.BlockNum)
	b = append(b, 0)
	return binary.BigEndian.AppendUint64(b, v.TxNum)
}

// parseHistoryKey returns the version in k if k is a history key of exactly
// the key whose history prefix is p.
func parseHistoryKey(p, k []byte) (Version, bool) {
	if len(k) != len(p)+historySuffixLen-1 {
		return Version{}, false
	}
	s := k[len(p):]
	if s[8] != 0 {
		return Version{}, false
	}
	return Version{BlockNum: binary.BigEndian.Uint64(s[:8]), TxNum: binary.BigEndian.Uint64(s[9:])}, true
}

func encodeValue(vv *VersionedValue) []byte {
	b := make([]byte, 0, 1+3*binary.MaxVarintLen64+len(vv.Metadata)+len(vv.Value))
	b = append(b, valueFormat)
	b = binary.AppendUvarint(b, vv.Version.BlockNum)
	b = binary.AppendUvarint(b, vv.Version.TxNum)
	b = binary.AppendUvarint(b, uint64(len(vv.Metadata)))
	b = append(b, vv.Metadata...)
	return append(b, vv.Value...)
}

var errCorrupt = errors.New("corrupt state value")

// decodeValue copies out of b, which bbolt only lends for the transaction.
func decodeValue(b []byte) (*VersionedValue, error) {
	if len(b) == 0 || b[0] != valueFormat {
		return nil, fmt.Errorf("%w: unknown format", errCorrupt)
	}
	b = b[1:]
	var vals [3]uint64
	for i := range vals {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, fmt.Errorf("%w: bad varint %d", errCorrupt, i)
		}
		vals[i], b = v, b[n:]
	}
	if vals[2] > uint64(len(b)) {
		return nil, fmt.Errorf("%w: metadata length %d exceeds %d bytes", errCorrupt, vals[2], len(b))
	}
	vv := &VersionedValue{Version: Version{BlockNum: vals[0], TxNum: vals[1]}}
	if vals[2] > 0 {
		vv.Metadata = append([]byte(nil), b[:vals[2]]...)
	}
	vv.Value = append([]byte{}, b[vals[2]:]...)
	return vv, nil
}
