package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// MaxSpecSize bounds the input so a stray large file fails fast instead of
// being parsed; real specs are a few kilobytes.
const MaxSpecSize = 1 << 20

// Parse decodes a spec document, applies defaults and validates it. The
// returned error joins every problem found (see Problems); each names the
// field path and the YAML line.
func Parse(data []byte) (*Network, error) {
	return parse(data, "spec")
}

// Load reads and parses the spec file at path. Problems are reported with the
// file's base name instead of "spec".
func Load(path string) (*Network, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	return parse(data, filepath.Base(path))
}

func parse(data []byte, source string) (*Network, error) {
	p := &problems{source: source}
	if len(data) > MaxSpecSize {
		p.addf("", "document is %d bytes; the limit is %d", len(data), MaxSpecSize)
		return nil, p.err()
	}
	doc := readSingleDocument(data, p)
	if doc == nil {
		return nil, p.err()
	}

	p.lines = map[string]int{"": doc.Line}
	p.skip = map[string]bool{}
	var n Network
	checkShape(doc, networkType, "", p)
	if err := safeDecode(doc, &n); err != nil {
		// checkShape removed everything the decoder could object to; if it
		// still fails, refuse the document rather than check a partial value.
		p.addf("", "%v", err)
		return nil, p.err()
	}
	n.lines = p.lines
	n.SetDefaults()
	n.check(p)
	if len(p.list) > 0 {
		return nil, p.err()
	}
	return &n, nil
}

// readSingleDocument parses data into a YAML node tree and insists on exactly
// one non-empty document whose root is a mapping. It returns nil, with the
// problem recorded in p, when that is not so.
func readSingleDocument(data []byte, p *problems) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := safeNodeDecode(dec, &doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.addf("", "document is empty")
			return nil
		}
		p.list = append(p.list, syntaxError(p.source, "invalid YAML", err))
		return nil
	}
	var extra yaml.Node
	switch err := safeNodeDecode(dec, &extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		p.list = append(p.list, syntaxError(p.source, "invalid YAML after the first document", err))
		return nil
	default:
		p.list = append(p.list, &FieldError{Source: p.source, Line: extra.Line,
			Msg: "multiple YAML documents; a spec is exactly one document"})
		return nil
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) != 1 {
			p.addf("", "document is empty")
			return nil
		}
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		p.addf("", "document is empty")
		return nil
	}
	if root.Kind != yaml.MappingNode {
		p.list = append(p.list, &FieldError{Source: p.source, Line: root.Line,
			Msg: "document must be a mapping with name, orderer, orgs, channels and chaincodes"})
		return nil
	}
	return root
}

// syntaxError keeps yaml.v3's own message: its line numbers are 1-based for
// scanner errors but 0-based for parser errors, which cannot be told apart
// from the outside, so they are not lifted into FieldError.Line.
func syntaxError(source, what string, err error) *FieldError {
	return &FieldError{Source: source, Msg: what + ": " + err.Error()}
}

// The yaml library is third-party code fed untrusted input; a panic inside
// it must become an error, never a crash of the caller.
func safeNodeDecode(dec *yaml.Decoder, out *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml parser failed: %v", r)
		}
	}()
	return dec.Decode(out)
}

func safeDecode(n *yaml.Node, out any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml decoder failed: %v", r)
		}
	}()
	return n.Decode(out)
}
