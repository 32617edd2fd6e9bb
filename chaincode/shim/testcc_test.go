package shim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"weft/chaincode/internal/peertest"
	"weft/chaincode/shim"
	"weft/peer/chaincode"
	"weft/wire/msp"
	pb "weft/wire/peer"
)

// testCC exercises one Stub feature per function; results are plain text.
type testCC struct{}

func (testCC) Init(stub shim.Stub) *pb.Response {
	fn, params := stub.GetFunctionAndParameters()
	return shim.Success([]byte("init:" + fn + ":" + strings.Join(params, ",")))
}

func (testCC) Invoke(stub shim.Stub) *pb.Response {
	fn, p := stub.GetFunctionAndParameters()
	out, err := run(stub, fn, p)
	if err != nil {
		return shim.Error(err.Error())
	}
	return shim.Success([]byte(out))
}

func run(stub shim.Stub, fn string, p []string) (string, error) {
	switch fn {
	case "put":
		for i := 0; i+1 < len(p); i += 2 {
			if err := stub.PutState(p[i], []byte(p[i+1])); err != nil {
				return "", err
			}
		}
		return "", nil
	case "get":
		v, err := stub.GetState(p[0])
		if v == nil && err == nil {
			return "<nil>", nil
		}
		return string(v), err
	case "del":
		return "", stub.DelState(p[0])
	case "range":
		it, err := stub.GetStateByRange(p[0], p[1])
		if err != nil {
			return "", err
		}
		return drain(it)
	case "page":
		size, _ := strconv.Atoi(p[2])
		it, md, err := stub.GetStateByRangeWithPagination(p[0], p[1], int32(size), p[3])
		if err != nil {
			return "", err
		}
		keys, err := drain(it)
		return fmt.Sprintf("%s|%d|%s", keys, md.GetFetchedRecordsCount(), md.GetBookmark()), err
	case "index": // index type attr... : writes a composite key
		k, err := stub.CreateCompositeKey(p[0], p[1:])
		if err != nil {
			return "", err
		}
		return "", stub.PutState(k, []byte{0})
	case "partial":
		it, err := stub.GetStateByPartialCompositeKey(p[0], p[1:])
		if err != nil {
			return "", err
		}
		defer it.Close()
		var out []string
		for it.HasNext() {
			kv, err := it.Next()
			if err != nil {
				return "", err
			}
			_, attrs, err := stub.SplitCompositeKey(kv.GetKey())
			if err != nil {
				return "", err
			}
			out = append(out, strings.Join(attrs, "/"))
		}
		return strings.Join(out, ","), nil
	case "query":
		it, err := stub.GetQueryResult(p[0])
		if err != nil {
			return "", err
		}
		return drain(it)
	case "history":
		it, err := stub.GetHistoryForKey(p[0])
		if err != nil {
			return "", err
		}
		defer it.Close()
		var out []string
		for it.HasNext() {
			m, err := it.Next()
			if err != nil {
				return "", err
			}
			out = append(out, fmt.Sprintf("%s:%s:%t:%d", m.GetTxId(), m.GetValue(), m.GetIsDelete(), m.GetTimestamp().GetSeconds()))
		}
		return strings.Join(out, ","), nil
	case "event":
		return "", stub.SetEvent(p[0], []byte(p[1]))
	case "info":
		return info(stub)
	case "call":
		var args [][]byte
		for _, a := range p[2:] {
			args = append(args, []byte(a))
		}
		r := stub.InvokeChaincode(p[0], args, p[1])
		return fmt.Sprintf("%d|%s|%s", r.GetStatus(), r.GetMessage(), r.GetPayload()), nil
	case "fail":
		return "", fmt.Errorf("%s", p[0])
	case "panic":
		panic("boom")
	case "sleep":
		d, _ := time.ParseDuration(p[0])
		time.Sleep(d)
		v, err := stub.GetState(p[1])
		return string(v), err
	case "parallel": // many goroutines share the stub's one request slot
		var wg sync.WaitGroup
		errs := make([]error, 20)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := stub.GetState(p[0])
				if err == nil && string(v) != p[1] {
					err = fmt.Errorf("read %q", v)
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return "", err
			}
		}
		return "ok", nil
	}
	return "", fmt.Errorf("unknown function %q", fn)
}

func drain(it shim.StateQueryIterator) (string, error) {
	defer it.Close()
	var keys []string
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return "", err
		}
		keys = append(keys, kv.GetKey())
	}
	// Reading past the end must fail, not hang or return garbage.
	if _, err := it.Next(); err == nil {
		return "", fmt.Errorf("next after the end succeeded")
	}
	return strings.Join(keys, ","), nil
}

func info(stub shim.Stub) (string, error) {
	creator, err := stub.GetCreator()
	if err != nil {
		return "", err
	}
	id := &msp.SerializedIdentity{}
	if err := proto.Unmarshal(creator, id); err != nil {
		return "", err
	}
	ts, err := stub.GetTxTimestamp()
	if err != nil {
		return "", err
	}
	tr, err := stub.GetTransient()
	if err != nil {
		return "", err
	}
	binding, err := stub.GetBinding()
	if err != nil {
		return "", err
	}
	sp, err := stub.GetSignedProposal()
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(map[string]any{
		"txid": stub.GetTxID(), "channel": stub.GetChannelID(), "msp": id.GetMspid(), "seconds": ts.GetSeconds(),
		"transient": string(tr["secret"]), "binding": len(binding), "signature": string(sp.GetSignature()),
		"args": stub.GetStringArgs(), "rawargs": len(stub.GetArgs()),
	})
	return string(b), err
}

// serve runs cc as ccid on a loopback port until the test ends.
func serve(t *testing.T, cc shim.Chaincode, ccid string, opts shim.ServerOptions) *chaincode.Connection {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts.Listener, opts.ChaincodeID = lis, ccid
	opts.Logger = slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- shim.Serve(ctx, cc, opts) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &chaincode.Connection{Address: lis.Addr().String(), DialTimeout: 2 * time.Second}
}

// mustOK runs a transaction that must succeed and returns its payload.
func mustOK(t *testing.T, p *peertest.Peer, commit bool, name string, args ...string) peertest.Result {
	t.Helper()
	res, err := p.Exec(peertest.Call{Name: name, Args: args, Commit: commit})
	if err != nil {
		t.Fatalf("%s %q: %v", name, args, err)
	}
	if res.Resp.GetStatus() != 200 {
		t.Fatalf("%s %q: status %d: %s", name, args, res.Resp.GetStatus(), res.Resp.GetMessage())
	}
	return res
}
