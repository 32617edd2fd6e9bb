package image

import (
	"fmt"
	"io/fs"
	"regexp"
)

// NonRootUID is the uid/gid of the "nonroot" user in the base, the value
// distroless images use, so security policies written for those fit.
const NonRootUID = 65532

var userNameRe = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)

// Base returns the minimal filesystem a static binary needs to run as a
// non-root user: /etc/passwd and /etc/group naming root and the user, and
// a world-writable /tmp that doubles as the user's home (so $HOME is
// writable without adding a directory per user).
func Base(user string, uid int) ([]File, error) {
	if !userNameRe.MatchString(user) || user == "root" {
		return nil, fmt.Errorf("user %q: want a lowercase login name other than root", user)
	}
	if uid <= 0 || uid >= 1<<31 {
		return nil, fmt.Errorf("uid %d: want a non-root uid (1..2^31-1)", uid)
	}
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\n%s:x:%d:%d:%s:/tmp:/sbin/nologin\n", user, uid, uid, user)
	group := fmt.Sprintf("root:x:0:\n%s:x:%d:\n", user, uid)
	return []File{
		{Path: "/etc", Mode: fs.ModeDir | 0o755},
		{Path: "/etc/passwd", Mode: 0o644, Content: []byte(passwd)},
		{Path: "/etc/group", Mode: 0o644, Content: []byte(group)},
		{Path: "/tmp", Mode: fs.ModeDir | fs.ModeSticky | 0o777},
	}, nil
}
