package spec

import (
	"strings"
	"testing"
)

// baseSpec is the minimal valid spec; rejection cases edit one of its lines
// so expected line numbers stay easy to read.
const baseSpec = `name: demo
orderer: {org: OrdererOrg, domain: example.com, nodes: 3}
orgs:
  - {name: Org1, domain: org1.example.com, peers: 1, users: 1}
  - {name: Org2, domain: org2.example.com, peers: 1, users: 1}
channels:
  - {name: mychannel, orgs: [Org1, Org2]}
chaincodes:
  - {name: basic, channel: mychannel, path: ./chaincode/basic}
`

// withLine returns baseSpec with 1-based line i replaced by text (which may
// span several lines); i == 10 appends.
func withLine(i int, text string) string {
	lines := strings.Split(strings.TrimSuffix(baseSpec, "\n"), "\n")
	if i == len(lines)+1 {
		lines = append(lines, text)
	} else {
		lines[i-1] = text
	}
	return strings.Join(lines, "\n") + "\n"
}

type rejectCase struct {
	name string
	doc  string
	// want holds, in order, a substring of each expected problem's full
	// message; the number of problems must match exactly.
	want []string
}

var rejectCases = []rejectCase{
	// Document level.
	{"empty", "", []string{"spec: document is empty"}},
	{"comment only", "# nothing\n", []string{"spec: document is empty"}},
	{"null document", "---\n~\n", []string{"spec: document is empty"}},
	{"not a mapping", "- a\n- b\n", []string{"spec line 1: document must be a mapping"}},
	{"invalid yaml", "name: demo\norgs: [unclosed\n", []string{"spec: invalid YAML: yaml: line "}},
	{"invalid second document", baseSpec + "---\n[\n", []string{"spec: invalid YAML after the first document: yaml: line "}},
	{"multiple documents", baseSpec + "---\nname: other\n", []string{"spec line 10: multiple YAML documents"}},

	// Structure.
	{"unknown top-level field", withLine(10, "colour: blue"),
		[]string{"spec line 10: colour: unknown field; known fields here: chaincodes, channels, name, orderer, orgs"}},
	{"unknown org field", withLine(4, "  - {name: Org1, domain: org1.example.com, peers: 1, users: 1, admins: 2}"),
		[]string{"spec line 4: orgs[0].admins: unknown field"}},
	{"unknown ccaas field", withLine(9, "  - {name: basic, channel: mychannel, ccaas: {address: cc:7052, port: 1}}"),
		[]string{"spec line 9: chaincodes[0].ccaas.port: unknown field"}},
	{"duplicate key", withLine(1, "name: demo\nname: other"),
		[]string{"spec line 2: name: duplicate key; first set on line 1"}},
	{"orderer is a list", withLine(2, "orderer: [OrdererOrg]"),
		[]string{"spec line 2: orderer: expected a mapping, found a list"}},
	{"orgs is a string", withLine(3, "orgs: Org1\nx:"),
		[]string{"spec line 3: orgs: expected a list, found a scalar", "spec line 4: x: unknown field"}},
	{"org is a list", withLine(5, "  - [Org2]"),
		[]string{"spec line 5: orgs[1]: expected a mapping, found a list"}},
	{"name is a mapping", withLine(1, "name: {a: b}"),
		[]string{"spec line 1: name: expected a string, found a mapping"}},
	{"peers not an integer", withLine(4, "  - {name: Org1, domain: org1.example.com, peers: many, users: 1}"),
		[]string{`spec line 4: orgs[0].peers: "many" is not a valid integer`}},
	{"negative batch size", withLine(2, "orderer: {org: OrdererOrg, domain: example.com, nodes: 3, batchSize: {maxMessageCount: -1}}"),
		[]string{`spec line 2: orderer.batchSize.maxMessageCount: "-1" is not a valid non-negative integer`}},
	{"ca not a boolean", withLine(4, "  - {name: Org1, domain: org1.example.com, peers: 1, users: 1, ca: maybe}"),
		[]string{`spec line 4: orgs[0].ca: "maybe" is not a valid boolean`}},
	{"alias", withLine(7, "  - {name: &c mychannel, orgs: [Org1, Org2]}") + "  - {name: cc2, channel: *c, path: x}\n",
		[]string{"spec line 10: chaincodes[1].channel: YAML aliases are not supported"}},
	{"merge key", withLine(4, "  - &o {name: Org1, domain: org1.example.com, peers: 1, users: 1}\n  - {<<: *o, name: Org3}"),
		[]string{"spec line 5: orgs[1]: YAML merge keys (<<) are not supported"}},

	// Names and required fields.
	{"missing name", withLine(1, "# no name"), []string{"spec line 2: name: is required"}},
	{"bad network name", withLine(1, "name: Demo_1"), []string{`spec line 1: name: "Demo_1" is not valid`}},
	{"missing orderer", "name: demo\norgs: [{name: Org1, domain: org1.example.com, peers: 1}]\n",
		[]string{"spec line 1: orderer: is required, with at least org, domain and nodes"}},
	{"missing orderer org", withLine(2, "orderer: {domain: example.com, nodes: 3}"),
		[]string{"spec line 2: orderer.org: is required"}},
	{"missing org name", withLine(5, "  - {domain: org2.example.com, peers: 1}"),
		[]string{"spec line 5: orgs[1].name: is required",
			`spec line 7: channels[0].orgs[1]: organization "Org2" is not defined in orgs`}},
	{"missing orderer domain", withLine(2, "orderer: {org: OrdererOrg, nodes: 3}"),
		[]string{"spec line 2: orderer.domain: is required"}},
	{"bad domain", withLine(4, "  - {name: Org1, domain: Org1.Example.com, peers: 1, users: 1}"),
		[]string{`spec line 4: orgs[0].domain: "Org1.Example.com" is not a valid domain`}},
	{"bad org name", withLine(5, "  - {name: Org 2, domain: org2.example.com, peers: 1, users: 1}"),
		[]string{`spec line 5: orgs[1].name: "Org 2" is not valid`,
			`spec line 7: channels[0].orgs[1]: organization "Org2" is not defined in orgs`}},
	{"bad msp id", withLine(4, "  - {name: Org1, domain: org1.example.com, mspID: 'Org1 MSP', peers: 1, users: 1}"),
		[]string{`spec line 4: orgs[0].mspID: "Org1 MSP" is not valid`}},
	{"no orgs", "name: demo\norderer: {org: OrdererOrg, domain: example.com, nodes: 1}\norgs: []\n",
		[]string{"spec line 3: orgs: at least one peer organization is required"}},
	{"orgs missing", "name: demo\norderer: {org: OrdererOrg, domain: example.com, nodes: 1}\n",
		[]string{"spec line 1: orgs: at least one peer organization is required"}},

	// Duplicates.
	{"duplicate org name", withLine(5, "  - {name: Org1, domain: org2.example.com, peers: 1, users: 1}"),
		[]string{`spec line 5: orgs[1].name: "Org1" is already used by orgs[0].name`,
			`spec line 7: channels[0].orgs[1]: organization "Org2" is not defined in orgs`}},
	{"org named like orderer org", withLine(5, "  - {name: OrdererOrg, domain: org2.example.com, peers: 1, users: 1}"),
		[]string{`spec line 5: orgs[1].name: "OrdererOrg" is already used by orderer.org`,
			`spec line 7: channels[0].orgs[1]: organization "Org2" is not defined in orgs`}},
	{"duplicate domain", withLine(5, "  - {name: Org2, domain: org1.example.com, peers: 1, users: 1}"),
		[]string{`spec line 5: orgs[1].domain: "org1.example.com" is already used by orgs[0].domain`}},
	{"domain of orderer", withLine(5, "  - {name: Org2, domain: example.com, peers: 1, users: 1}"),
		[]string{`spec line 5: orgs[1].domain: "example.com" is already used by orderer.domain`}},
	{"duplicate msp id", withLine(5, "  - {name: Org2, domain: org2.example.com, mspID: Org1MSP, peers: 1, users: 1}"),
		[]string{`spec line 5: orgs[1].mspID: "Org1MSP" is already used by orgs[0].mspID`}},
	{"duplicate channel", withLine(7, "  - {name: mychannel, orgs: [Org1, Org2]}\n  - {name: mychannel, orgs: [Org1]}"),
		[]string{`spec line 8: channels[1].name: "mychannel" is already used by channels[0].name`}},
	{"duplicate chaincode on a channel", withLine(10, "  - {name: basic, channel: mychannel, ccaas: {address: basic:7052}}"),
		[]string{`spec line 10: chaincodes[1].name: chaincode "basic" is already defined on channel "mychannel" by chaincodes[0]`}},

	// Channels.
	{"channel org not defined", withLine(7, "  - {name: mychannel, orgs: [Org1, Org3]}"),
		[]string{`spec line 7: channels[0].orgs[1]: organization "Org3" is not defined in orgs`}},
	{"channel lists orderer org", withLine(7, "  - {name: mychannel, orgs: [Org1, OrdererOrg]}"),
		[]string{`spec line 7: channels[0].orgs[1]: "OrdererOrg" is the orderer organization`}},
	{"channel lists org twice", withLine(7, "  - {name: mychannel, orgs: [Org1, Org1]}"),
		[]string{`spec line 7: channels[0].orgs[1]: "Org1" is already used by channels[0].orgs[0]`}},
	{"channel without orgs", withLine(7, "  - {name: mychannel, orgs: []}"),
		[]string{`spec line 7: channels[0].orgs: at least one organization is required`}},
	{"channel name upper case", withLine(7, "  - {name: MyChannel, orgs: [Org1]}"),
		[]string{`spec line 7: channels[0].name: "MyChannel" is not valid`,
			`spec line 9: chaincodes[0].channel: channel "mychannel" is not defined in channels`}},
	{"channel name too long", withLine(7, "  - {name: a"+strings.Repeat("b", 249)+", orgs: [Org1]}\n  - {name: mychannel, orgs: [Org1]}"),
		[]string{`spec line 7: channels[0].name: "abbbbbbbbb`}},
	{"channel name length reported", withLine(7, "  - {name: a"+strings.Repeat("b", 249)+", orgs: [Org1]}\n  - {name: mychannel, orgs: [Org1]}"),
		[]string{`is 250 characters; the limit is 249`}},

	// Chaincodes.
	{"chaincode channel not defined", withLine(9, "  - {name: basic, channel: other, path: ./cc}"),
		[]string{`spec line 9: chaincodes[0].channel: channel "other" is not defined in channels`}},
	{"chaincode name invalid", withLine(9, "  - {name: a--b, channel: mychannel, path: ./cc}"),
		[]string{`spec line 9: chaincodes[0].name: "a--b" is not valid`}},
	{"path and ccaas", withLine(9, "  - {name: basic, channel: mychannel, path: ./cc, ccaas: {address: cc:7052}}"),
		[]string{`spec line 9: chaincodes[0]: set either path or ccaas, not both`}},
	{"neither path nor ccaas", withLine(9, "  - {name: basic, channel: mychannel}"),
		[]string{`spec line 9: chaincodes[0]: set path (chaincode source) or ccaas`}},
	{"absolute path", withLine(9, "  - {name: basic, channel: mychannel, path: /opt/cc}"),
		[]string{`spec line 9: chaincodes[0].path: "/opt/cc" must be relative to the spec file`}},
	{"ccaas address without port", withLine(9, "  - {name: basic, channel: mychannel, ccaas: {address: basic}}"),
		[]string{`spec line 9: chaincodes[0].ccaas.address: "basic" is not host:port`}},
	{"ccaas port out of range", withLine(9, "  - {name: basic, channel: mychannel, ccaas: {address: 'basic:70000'}}"),
		[]string{`spec line 9: chaincodes[0].ccaas.address: "basic:70000": port must be a number from 1 to 65535`}},
	{"ccaas bad host", withLine(9, "  - {name: basic, channel: mychannel, ccaas: {address: 'bad_host:7052'}}"),
		[]string{`spec line 9: chaincodes[0].ccaas.address: "bad_host:7052": "bad_host" is not a valid host name`}},
	{"ccaas missing host", withLine(9, "  - {name: basic, channel: mychannel, ccaas: {address: ':7052'}}"),
		[]string{`spec line 9: chaincodes[0].ccaas.address: ":7052": host is missing`}},
	{"bad version", withLine(9, "  - {name: basic, channel: mychannel, path: ./cc, version: '1 0'}"),
		[]string{`spec line 9: chaincodes[0].version: "1 0" is not valid`}},
	{"negative sequence", withLine(9, "  - {name: basic, channel: mychannel, path: ./cc, sequence: -2}"),
		[]string{`spec line 9: chaincodes[0].sequence: -2 must be 1 or more`}},
	{"bad label", withLine(9, "  - {name: basic, channel: mychannel, path: ./cc, label: _x}"),
		[]string{`spec line 9: chaincodes[0].label: "_x" is not valid`}},
	{"endorsement names unknown msp", withLine(9, "  - {name: basic, channel: mychannel, path: ./cc, endorsement: \"AND('Org1MSP.peer','Org3MSP.peer')\"}"),
		[]string{`spec line 9: chaincodes[0].endorsement: MSP "Org3MSP" is not a member of channel "mychannel"`}},
	{"endorsement names msp outside channel", withLine(7, "  - {name: mychannel, orgs: [Org1]}") + "  - {name: other, channel: mychannel, path: ./o,\n     endorsement: \"OR('Org1MSP.member', 'Org2MSP.member')\"}\n",
		[]string{`spec line 11: chaincodes[1].endorsement: MSP "Org2MSP" is not a member of channel "mychannel"`}},
	{"endorsement syntax", withLine(9, "  - {name: basic, channel: mychannel, path: ./cc, endorsement: \"AND('Org1MSP.peer'\"}"),
		[]string{`spec line 9: chaincodes[0].endorsement: missing ) to close AND`}},
	{"endorsement role", withLine(9, "  - {name: basic, channel: mychannel, path: ./cc, endorsement: \"OR('Org1MSP.boss')\"}"),
		[]string{`spec line 9: chaincodes[0].endorsement: principal "Org1MSP.boss" is not of the form`}},

	// Counts, durations, batch sizes.
	{"zero orderer nodes", withLine(2, "orderer: {org: OrdererOrg, domain: example.com, nodes: 0}"),
		[]string{`spec line 2: orderer.nodes: 0 is out of range`}},
	{"too many orderer nodes", withLine(2, "orderer: {org: OrdererOrg, domain: example.com, nodes: 16}"),
		[]string{`spec line 2: orderer.nodes: 16 is out of range`}},
	{"missing peers", withLine(4, "  - {name: Org1, domain: org1.example.com, users: 1}"),
		[]string{`spec line 4: orgs[0].peers: 0 is out of range; an organization needs 1 to 50 peers`}},
	{"too many peers", withLine(4, "  - {name: Org1, domain: org1.example.com, peers: 51, users: 1}"),
		[]string{`spec line 4: orgs[0].peers: 51 is out of range`}},
	{"negative users", withLine(4, "  - {name: Org1, domain: org1.example.com, peers: 1, users: -1}"),
		[]string{`spec line 4: orgs[0].users: -1 is out of range`}},
	{"bad batch timeout", withLine(2, "orderer: {org: OrdererOrg, domain: example.com, nodes: 3, batchTimeout: 2 seconds}"),
		[]string{`spec line 2: orderer.batchTimeout: "2 seconds" is not a duration`}},
	{"negative batch timeout", withLine(2, "orderer: {org: OrdererOrg, domain: example.com, nodes: 3, batchTimeout: -1s}"),
		[]string{`spec line 2: orderer.batchTimeout: "-1s" must be positive`}},
	{"preferred above absolute", withLine(2, "orderer: {org: OrdererOrg, domain: example.com, nodes: 3,\n  batchSize: {absoluteMaxBytes: 1000, preferredMaxBytes: 2000}}"),
		[]string{`spec line 3: orderer.batchSize.preferredMaxBytes: 2000 is larger than absoluteMaxBytes (1000)`}},
	{"absolute above grpc limit", withLine(2, "orderer: {org: OrdererOrg, domain: example.com, nodes: 3, batchSize: {absoluteMaxBytes: 200000000}}"),
		[]string{`spec line 2: orderer.batchSize.absoluteMaxBytes: 200000000 exceeds`}},

	// Every problem is reported, not just the first.
	{"several problems", "name: demo\norderer: {org: OrdererOrg, domain: example.com, nodes: 0}\norgs:\n  - {name: Org1, domain: org1.example.com, peers: 0}\nchannels:\n  - {name: ch, orgs: [Nope]}\n",
		[]string{"spec line 2: orderer.nodes: 0 is out of range",
			"spec line 4: orgs[0].peers: 0 is out of range",
			`spec line 6: channels[0].orgs[0]: organization "Nope" is not defined`}},
}

func TestParseRejects(t *testing.T) {
	for _, tc := range rejectCases {
		t.Run(tc.name, func(t *testing.T) {
			n, err := Parse([]byte(tc.doc))
			if err == nil {
				t.Fatalf("Parse accepted the spec:\n%s", tc.doc)
			}
			if n != nil {
				t.Errorf("Parse returned a network along with an error")
			}
			probs := Problems(err)
			if len(probs) != len(tc.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(probs), len(tc.want), err)
			}
			for i, w := range tc.want {
				if !strings.Contains(probs[i].Error(), w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, probs[i].Error(), w)
				}
			}
		})
	}
}

// The base spec itself must be valid, or every rejection case above would
// pass for the wrong reason.
func TestBaseSpecIsValid(t *testing.T) {
	if _, err := Parse([]byte(baseSpec)); err != nil {
		t.Fatalf("base spec rejected: %v", err)
	}
}
