package chaincode

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestBuildAndParseCCaaSPackage(t *testing.T) {
	conn := Connection{Address: "cc.example.com:9999", DialTimeout: 10 * time.Second}
	pkg, err := BuildCCaaSPackage("basic_1.0", conn)
	if err != nil {
		t.Fatal(err)
	}
	again, err := BuildCCaaSPackage("basic_1.0", conn)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pkg, again) {
		t.Fatal("same input gave different packages")
	}
	p, err := ParsePackage(pkg)
	if err != nil {
		t.Fatal(err)
	}
	if p.Label != "basic_1.0" || p.Type != "ccaas" || !p.IsCCaaS() {
		t.Fatalf("parsed %+v", p)
	}
	if p.ID != PackageID("basic_1.0", pkg) || !strings.HasPrefix(p.ID, "basic_1.0:") || len(p.ID) != len("basic_1.0:")+64 {
		t.Fatalf("package id %q", p.ID)
	}
	if p.Connection == nil || p.Connection.Address != conn.Address || p.Connection.DialTimeout != conn.DialTimeout || p.Connection.TLSRequired {
		t.Fatalf("connection %+v", p.Connection)
	}
	other, err := BuildCCaaSPackage("basic_1.0", Connection{Address: "cc.example.com:9998"})
	if err != nil {
		t.Fatal(err)
	}
	if PackageID("basic_1.0", other) == p.ID {
		t.Fatal("different connection gave the same package id")
	}
}

func TestBuildCCaaSPackageTLS(t *testing.T) {
	conn := Connection{Address: "cc:7052", TLSRequired: true, ClientAuthRequired: true,
		RootCert: []byte("-----BEGIN CERTIFICATE-----\nroot\n"), ClientCert: []byte("cert"), ClientKey: []byte("key"), Domain: "cc.internal"}
	pkg, err := BuildCCaaSPackage("tls", conn)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePackage(pkg)
	if err != nil {
		t.Fatal(err)
	}
	c := p.Connection
	if !c.TLSRequired || !c.ClientAuthRequired || string(c.RootCert) != string(conn.RootCert) ||
		string(c.ClientCert) != "cert" || string(c.ClientKey) != "key" || c.Domain != "cc.internal" || c.DialTimeout != DefaultConnDialTimeout {
		t.Fatalf("connection %+v", c)
	}
}

func TestBuildCCaaSPackageRejects(t *testing.T) {
	for _, tc := range []struct {
		name, label string
		conn        Connection
		want        string
	}{
		{"bad label", "-x", Connection{Address: "a:1"}, "label"},
		{"empty label", "", Connection{Address: "a:1"}, "label"},
		{"no address", "ok", Connection{}, "address is empty"},
		{"no port", "ok", Connection{Address: "host"}, "address"},
		{"tls without root", "ok", Connection{Address: "a:1", TLSRequired: true}, "root_cert"},
		{"client auth without cert", "ok", Connection{Address: "a:1", TLSRequired: true, ClientAuthRequired: true, RootCert: []byte("x")}, "client_key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := BuildCCaaSPackage(tc.label, tc.conn)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func mustTarGz(t *testing.T, files ...tarFile) []byte {
	t.Helper()
	b, err := writeTarGz(files)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParsePackageErrors(t *testing.T) {
	code := mustTarGz(t, tarFile{"connection.json", []byte(`{"address":"a:1","dial_timeout":"10s"}`)})
	md := func(s string) tarFile { return tarFile{"metadata.json", []byte(s)} }
	good := md(`{"type":"ccaas","label":"x"}`)
	for _, tc := range []struct {
		name string
		pkg  []byte
		want string
	}{
		{"not gzip", []byte("hello"), "not a gzip"},
		{"missing metadata", mustTarGz(t, tarFile{"code.tar.gz", code}), "missing metadata.json"},
		{"missing code", mustTarGz(t, good), "missing code.tar.gz"},
		{"bad json", mustTarGz(t, md(`{"type":`), tarFile{"code.tar.gz", code}), "metadata.json"},
		{"bad type", mustTarGz(t, md(`{"type":"cobol","label":"x"}`), tarFile{"code.tar.gz", code}), `type "cobol"`},
		{"empty type", mustTarGz(t, md(`{"label":"x"}`), tarFile{"code.tar.gz", code}), "type is empty"},
		{"bad label", mustTarGz(t, md(`{"type":"ccaas","label":"a b"}`), tarFile{"code.tar.gz", code}), "label"},
		{"traversal", mustTarGz(t, good, tarFile{"../evil", []byte("x")}, tarFile{"code.tar.gz", code}), "path traversal"},
		{"absolute", mustTarGz(t, good, tarFile{"/etc/passwd", []byte("x")}, tarFile{"code.tar.gz", code}), "absolute"},
		{"dup", mustTarGz(t, good, good, tarFile{"code.tar.gz", code}), "twice"},
		{"code not gzip", mustTarGz(t, good, tarFile{"code.tar.gz", []byte("zz")}), "code.tar.gz"},
		{"no connection.json", mustTarGz(t, good, tarFile{"code.tar.gz", mustTarGz(t, tarFile{"x", nil})}), "missing connection.json"},
		{"inner traversal", mustTarGz(t, good, tarFile{"code.tar.gz", mustTarGz(t, tarFile{"a/../../x", nil})}), "path traversal"},
		{"bad connection", mustTarGz(t, good, tarFile{"code.tar.gz", mustTarGz(t, tarFile{"connection.json", []byte(`{"address":""}`)})}), "address is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePackage(tc.pkg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestParsePackageNonCCaaS(t *testing.T) {
	pkg := mustTarGz(t, tarFile{"metadata.json", []byte(`{"type":"golang","label":"go_1","path":"github.com/x/y"}`)},
		tarFile{"code.tar.gz", mustTarGz(t, tarFile{"src/main.go", []byte("package main")})})
	p, err := ParsePackage(pkg)
	if err != nil {
		t.Fatal(err)
	}
	if p.IsCCaaS() || p.Connection != nil || p.Path != "github.com/x/y" || p.ID != PackageID("go_1", pkg) {
		t.Fatalf("parsed %+v", p)
	}
	// "external" is a CCaaS type too, matched case-insensitively as Fabric's detect step does.
	ext := mustTarGz(t, tarFile{"metadata.json", []byte(`{"type":"External","label":"e"}`)},
		tarFile{"code.tar.gz", mustTarGz(t, tarFile{"connection.json", []byte(`{"address":"h:1"}`)}, tarFile{"META-INF/statedb/couchdb/indexes/i.json", []byte("{}")})})
	p, err = ParsePackage(ext)
	if err != nil {
		t.Fatal(err)
	}
	if !p.IsCCaaS() || p.Connection.Address != "h:1" {
		t.Fatalf("parsed %+v", p)
	}
}

func TestParseConnection(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     time.Duration
		err      string
	}{
		{"string", `{"address":"a:1","dial_timeout":"10s"}`, 10 * time.Second, ""},
		{"nanoseconds", `{"address":"a:1","dial_timeout":2000000000}`, 2 * time.Second, ""},
		{"default", `{"address":"a:1"}`, DefaultConnDialTimeout, ""},
		{"empty string", `{"address":"a:1","dial_timeout":""}`, DefaultConnDialTimeout, ""},
		{"bad duration", `{"address":"a:1","dial_timeout":"soon"}`, 0, "dial_timeout"},
		{"negative", `{"address":"a:1","dial_timeout":"-1s"}`, 0, "positive"},
		{"bool", `{"address":"a:1","dial_timeout":true}`, 0, "dial_timeout"},
		{"not json", `address`, 0, "connection.json"},
		{"wrong type", `{"address":5}`, 0, "connection.json"},
		{"tls needs root", `{"address":"a:1","tls_required":true}`, 0, "root_cert"},
		// Like Fabric, client auth only matters with TLS.
		{"client auth without tls", `{"address":"a:1","client_auth_required":true}`, DefaultConnDialTimeout, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseConnection([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.DialTimeout != tc.want {
				t.Fatalf("dial timeout %s, want %s", c.DialTimeout, tc.want)
			}
		})
	}
}

func TestParseCalleeName(t *testing.T) {
	for _, tc := range []struct{ in, name, channel string }{
		{"cc", "cc", ""},
		{"cc/ch", "cc", "ch"},
		{"cc:1.0/ch", "cc", "ch"},
		{"cc:1.0", "cc", ""},
		{"/ch", "", "ch"},
	} {
		n, c := parseCalleeName(tc.in)
		if n != tc.name || c != tc.channel {
			t.Errorf("%q: got %q %q, want %q %q", tc.in, n, c, tc.name, tc.channel)
		}
	}
}
