package configtxgen

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// byteSizeRE is the size syntax configtxgen accepts: digits, optional
// blanks, then K, M or G with an optional B, in any letter case. Units are
// binary (1 KB = 1024 bytes), as in Fabric.
var byteSizeRE = regexp.MustCompile(`^([0-9]+)\s*([kKmMgG])[bB]?$`)

func parseByteSize(s string) (uint32, error) {
	t := strings.TrimSpace(s)
	if n, err := strconv.ParseUint(t, 10, 64); err == nil {
		if n > math.MaxUint32 {
			return 0, fmt.Errorf("size %q overflows uint32", s)
		}
		return uint32(n), nil
	}
	m := byteSizeRE.FindStringSubmatch(t)
	if m == nil {
		return 0, fmt.Errorf("invalid size %q: want a number of bytes, optionally with a KB, MB or GB unit (e.g. \"512 KB\", \"99 MB\")", s)
	}
	n, err := strconv.ParseUint(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q: %w", s, err)
	}
	shift := map[string]uint{"k": 10, "m": 20, "g": 30}[strings.ToLower(m[2])]
	// Compare before shifting so a huge number cannot wrap around.
	if n > math.MaxUint32>>shift {
		return 0, fmt.Errorf("size %q overflows uint32", s)
	}
	return uint32(n << shift), nil
}
