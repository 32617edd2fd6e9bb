package spec

import (
	"errors"
	"fmt"
	"strings"
)

// FieldError is one problem found in a spec. Parse, Load and Validate return
// all problems joined with errors.Join; Problems splits them again.
type FieldError struct {
	// Source is the file name for Load and "spec" otherwise.
	Source string
	// Line is the 1-based YAML line, or 0 when unknown (networks built in
	// code or decoded from JSON).
	Line int
	// Path is the field path, e.g. "orgs[1].domain"; empty for problems
	// with the document as a whole.
	Path string
	Msg  string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.Source)
	if e.Line > 0 {
		fmt.Fprintf(&b, " line %d", e.Line)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Problems returns the individual FieldErrors inside an error returned by
// this package, in the order they were found.
func Problems(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case *FieldError:
			out = append(out, e)
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				walk(inner)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		}
	}
	walk(err)
	return out
}

// problems collects FieldErrors while a spec is checked.
type problems struct {
	source string
	lines  map[string]int
	list   []*FieldError
	// skip holds paths whose YAML was malformed; semantic checks on them
	// (or below them) would only repeat the same problem in other words.
	skip map[string]bool
}

func (p *problems) addf(path, format string, args ...any) {
	if p.skipped(path) {
		return
	}
	p.list = append(p.list, &FieldError{
		Source: p.source,
		Line:   lineOf(p.lines, path),
		Path:   path,
		Msg:    fmt.Sprintf(format, args...),
	})
}

func (p *problems) skipped(path string) bool {
	for q := path; ; {
		if p.skip[q] {
			return true
		}
		i := strings.LastIndexAny(q, ".[")
		if i < 0 {
			return false
		}
		q = q[:i]
	}
}

// namesUnreliable reports whether the names in list (a path such as "orgs")
// could not be read, in which case references to them are not checked: a
// reference is not dangling just because its target was malformed.
func (p *problems) namesUnreliable(list string) bool {
	for k := range p.skip {
		if k == list {
			return true
		}
		rest, ok := strings.CutPrefix(k, list+"[")
		if !ok {
			continue
		}
		_, after, _ := strings.Cut(rest, "]")
		if after == "" || after == ".name" {
			return true
		}
	}
	return false
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	errs := make([]error, len(p.list))
	for i, e := range p.list {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// lineOf finds the line of path, falling back to the nearest enclosing field
// that was present in the document (a missing field is reported at the
// mapping that should have held it).
func lineOf(lines map[string]int, path string) int {
	if lines == nil {
		return 0
	}
	for q := path; ; {
		if l, ok := lines[q]; ok {
			return l
		}
		i := strings.LastIndexAny(q, ".[")
		if i < 0 {
			return lines[""]
		}
		q = q[:i]
	}
}
