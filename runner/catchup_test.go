package runner

import "testing"

func TestParseHeight(t *testing.T) {
	body := []byte(`# HELP ledger_blockchain_height Height of the channel's ledger.
# TYPE ledger_blockchain_height gauge
ledger_blockchain_height{channel="mychannel"} 7
ledger_blockchain_height{channel="my.channel2"} 1.2e+01
ledger_blockchain_height{channel="neg"} -1
ledger_blockchain_height{channel="junk"} x
`)
	tests := []struct {
		channel string
		want    uint64
		wantErr bool
	}{
		{channel: "mychannel", want: 7},
		{channel: "my.channel2", want: 12},
		{channel: "my", wantErr: true},
		{channel: "myXchannel2", wantErr: true}, // the dot is literal
		{channel: "neg", wantErr: true},
		{channel: "junk", wantErr: true},
		{channel: "other", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseHeight(body, tt.channel)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseHeight(%q) = %d, %v; want %d, error %v", tt.channel, got, err, tt.want, tt.wantErr)
		}
	}
}
