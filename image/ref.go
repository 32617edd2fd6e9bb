package image

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	pathComponentRe = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
	domainRe        = regexp.MustCompile(`^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$`)
	tagRe           = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
)

// Ref is a parsed image reference.
type Ref struct {
	// Name is the fully qualified reference, e.g. docker.io/library/weft:dev:
	// containerd's CRI looks images up by this form, so the import must
	// register it under exactly this name.
	Name string
	// Tag is the tag alone; the OCI ref.name annotation carries only it.
	Tag string
}

// ParseRef checks a reference such as weft.local/weft:dev and normalises
// it the way Docker and containerd do: a first component without a dot,
// colon or "localhost" is not a registry, so the image lives on docker.io,
// and single-component docker.io names sit under library/.
func ParseRef(s string) (Ref, error) {
	if s == "" {
		return Ref{}, fmt.Errorf("tag is empty")
	}
	if strings.Contains(s, "@") {
		return Ref{}, fmt.Errorf("tag %q: digest references cannot name a built image", s)
	}
	name, tag := s, "latest"
	if i := strings.LastIndex(s, ":"); i > strings.LastIndex(s, "/") {
		name, tag = s[:i], s[i+1:]
	}
	if !tagRe.MatchString(tag) {
		return Ref{}, fmt.Errorf("tag %q: tag part %q is not valid", s, tag)
	}
	parts := strings.Split(name, "/")
	domain := "docker.io"
	if len(parts) > 1 && (strings.ContainsAny(parts[0], ".:") || parts[0] == "localhost") {
		domain, parts = parts[0], parts[1:]
		if !domainRe.MatchString(domain) {
			return Ref{}, fmt.Errorf("tag %q: registry %q is not a valid host[:port]", s, domain)
		}
	}
	for _, p := range parts {
		if !pathComponentRe.MatchString(p) {
			return Ref{}, fmt.Errorf("tag %q: repository component %q must be lowercase letters, digits and separators", s, p)
		}
	}
	if domain == "docker.io" && len(parts) == 1 {
		parts = append([]string{"library"}, parts...)
	}
	full := domain + "/" + strings.Join(parts, "/")
	if len(full) > 255 {
		return Ref{}, fmt.Errorf("tag %q: repository name longer than 255 characters", s)
	}
	return Ref{Name: full + ":" + tag, Tag: tag}, nil
}
