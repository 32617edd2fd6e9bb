package chaincode

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"time"
)

// epoch is the modification time of every entry in packages built here, so
// that identical inputs give byte-identical packages and thus the same ID.
var epoch = time.Unix(0, 0).UTC()

// BuildCCaaSPackage returns a CCaaS install package for label whose
// code.tar.gz holds conn as connection.json. The output is deterministic.
func BuildCCaaSPackage(label string, conn Connection) ([]byte, error) {
	if !labelRE.MatchString(label) {
		return nil, fmt.Errorf("label %q must match %s", label, labelRE)
	}
	if err := conn.Validate(); err != nil {
		return nil, fmt.Errorf("connection: %w", err)
	}
	cj, err := json.MarshalIndent(conn, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("connection: %w", err)
	}
	code, err := writeTarGz([]tarFile{{"connection.json", cj}})
	if err != nil {
		return nil, fmt.Errorf("code.tar.gz: %w", err)
	}
	md, err := json.Marshal(packageMetadata{Type: "ccaas", Label: label, Path: ""})
	if err != nil {
		return nil, fmt.Errorf("metadata.json: %w", err)
	}
	pkg, err := writeTarGz([]tarFile{{"metadata.json", md}, {"code.tar.gz", code}})
	if err != nil {
		return nil, fmt.Errorf("package: %w", err)
	}
	return pkg, nil
}

type tarFile struct {
	name string
	data []byte
}

func writeTarGz(files []tarFile) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	for _, f := range files {
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     f.name,
			Mode:     0o644,
			Size:     int64(len(f.data)),
			ModTime:  epoch,
			Format:   tar.FormatUSTAR,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
