package shim

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Composite keys live in a namespace of their own: they start with
// compositeKeyNS, which simple keys may not, and separate their parts with
// minRune. A partial key followed by maxRune bounds every key extending it.
const (
	compositeKeyNS = "\x00"
	minRune        = "\x00"
	maxRune        = string(utf8.MaxRune)
	// emptyStart replaces an empty range start so that a range over the
	// whole namespace skips the composite keys.
	emptyStart = "\x01"
)

// CreateCompositeKey joins objectType and attributes into a composite key:
// "\x00" objectType "\x00" attr1 "\x00" attr2 "\x00" ...
func CreateCompositeKey(objectType string, attributes []string) (string, error) {
	if objectType == "" {
		return "", errors.New("composite key: object type is empty")
	}
	if err := checkKeyPart(objectType); err != nil {
		return "", fmt.Errorf("composite key: object type %q: %w", objectType, err)
	}
	var b strings.Builder
	b.WriteString(compositeKeyNS + objectType + minRune)
	for i, a := range attributes {
		if a == "" {
			// An empty attribute would make the key ambiguous to split.
			return "", fmt.Errorf("composite key: attribute %d is empty", i)
		}
		if err := checkKeyPart(a); err != nil {
			return "", fmt.Errorf("composite key: attribute %d %q: %w", i, a, err)
		}
		b.WriteString(a + minRune)
	}
	return b.String(), nil
}

func checkKeyPart(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("not valid UTF-8")
	}
	if strings.Contains(s, minRune) {
		return errors.New("contains U+0000, the composite key separator")
	}
	if strings.Contains(s, maxRune) {
		return errors.New("contains U+10FFFF, which is reserved for range ends")
	}
	return nil
}

// SplitCompositeKey undoes CreateCompositeKey.
func SplitCompositeKey(compositeKey string) (string, []string, error) {
	rest, ok := strings.CutPrefix(compositeKey, compositeKeyNS)
	if !ok || !strings.HasSuffix(rest, minRune) {
		return "", nil, fmt.Errorf("key %q is not a composite key", compositeKey)
	}
	parts := strings.Split(strings.TrimSuffix(rest, minRune), minRune)
	if parts[0] == "" {
		return "", nil, fmt.Errorf("composite key %q has an empty object type", compositeKey)
	}
	attrs := parts[1:]
	if len(attrs) == 0 {
		attrs = nil
	}
	return parts[0], attrs, nil
}

// checkSimpleKey keeps range queries out of the composite key namespace.
func checkSimpleKey(name, key string) error {
	if strings.HasPrefix(key, compositeKeyNS) {
		return fmt.Errorf("%s %q starts with U+0000, which is reserved for composite keys", name, key)
	}
	return nil
}
