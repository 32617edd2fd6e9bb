package population

import (
	"slices"
	"strings"
	"testing"

	"weft/wire/common"
)

func appConfig(orgs ...string) *common.Config {
	app := &common.ConfigGroup{Groups: map[string]*common.ConfigGroup{}, ModPolicy: "Admins"}
	for _, id := range orgs {
		app.Groups[id] = &common.ConfigGroup{ModPolicy: "Admins", Values: map[string]*common.ConfigValue{
			"MSP": {Value: []byte("msp of " + id), ModPolicy: "Admins"},
		}}
	}
	return &common.Config{ChannelGroup: &common.ConfigGroup{ModPolicy: "Admins", Groups: map[string]*common.ConfigGroup{"Application": app}}}
}

func TestPlanOrgUpdate(t *testing.T) {
	target := appConfig("Org1MSP", "Org2MSP", "Org3MSP").ChannelGroup
	admins := func(ids ...string) func(string) bool { return func(id string) bool { return slices.Contains(ids, id) } }
	cases := []struct {
		name        string
		current     *common.Config
		target      *common.ConfigGroup
		wanted      []string
		hasAdmin    func(string) bool
		wantAdded   string
		wantSigners string
		wantErr     string
	}{
		{name: "nothing missing", current: appConfig("Org1MSP", "Org2MSP"), target: target, wanted: []string{"Org1MSP", "Org2MSP"}, hasAdmin: admins("Org1MSP")},
		{name: "org removed from the spec stays", current: appConfig("Org1MSP", "Org2MSP"), target: target, wanted: []string{"Org1MSP"}, hasAdmin: admins()},
		{name: "add Org3", current: appConfig("Org1MSP", "Org2MSP"), target: target, wanted: []string{"Org1MSP", "Org2MSP", "Org3MSP", "Org3MSP"},
			hasAdmin: admins("Org1MSP", "Org2MSP", "Org3MSP"), wantAdded: "Org3MSP", wantSigners: "Org1MSP,Org2MSP"},
		{name: "two of three is a majority", current: appConfig("Org1MSP", "Org2MSP", "Org4MSP"), target: target, wanted: []string{"Org3MSP"},
			hasAdmin: admins("Org1MSP", "Org2MSP"), wantAdded: "Org3MSP", wantSigners: "Org1MSP,Org2MSP"},
		{name: "one of two is no majority", current: appConfig("Org1MSP", "Org2MSP"), target: target, wanted: []string{"Org3MSP"}, hasAdmin: admins("Org1MSP"), wantErr: "majority"},
		{name: "new org cannot sign itself in", current: appConfig("Org1MSP", "Org2MSP"), target: target, wanted: []string{"Org3MSP"}, hasAdmin: admins("Org3MSP"), wantErr: "majority"},
		{name: "nil admin check", current: appConfig("Org1MSP"), target: target, wanted: []string{"Org3MSP"}, wantErr: "majority"},
		{name: "org not in target", current: appConfig("Org1MSP"), target: target, wanted: []string{"Org9MSP"}, hasAdmin: admins("Org1MSP"), wantErr: "Org9MSP: not in the target"},
		{name: "no application group", current: &common.Config{ChannelGroup: &common.ConfigGroup{}}, target: target, wanted: []string{"Org3MSP"}, wantErr: "no Application group"},
		{name: "nil current", target: target, wanted: []string{"Org3MSP"}, wantErr: "required"},
		{name: "nil target", current: appConfig("Org1MSP"), wanted: []string{"Org3MSP"}, wantErr: "required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			plan, err := PlanOrgUpdate("mychannel", c.current, c.target, c.wanted, c.hasAdmin)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.wantAdded == "" {
				if plan != nil {
					t.Fatalf("plan adds %v, want none", plan.Added)
				}
				return
			}
			if plan == nil || strings.Join(plan.Added, ",") != c.wantAdded || strings.Join(plan.Signers, ",") != c.wantSigners {
				t.Fatalf("plan = %+v, want add %s signed by %s", plan, c.wantAdded, c.wantSigners)
			}
			ws := plan.Update.GetWriteSet().GetGroups()["Application"].GetGroups()
			if ws["Org3MSP"] == nil || string(ws["Org3MSP"].GetValues()["MSP"].GetValue()) != "msp of Org3MSP" {
				t.Fatalf("write set lacks Org3MSP's group: %v", ws)
			}
			if plan.Update.GetChannelId() != "mychannel" {
				t.Fatalf("update for channel %q", plan.Update.GetChannelId())
			}
			// The current config must be left as it was.
			if c.current.ChannelGroup.Groups["Application"].Groups["Org3MSP"] != nil {
				t.Fatal("PlanOrgUpdate modified the current config")
			}
		})
	}
}

func TestMissingOrgs(t *testing.T) {
	got, err := MissingOrgs(appConfig("Org1MSP"), []string{"Org2MSP", "Org1MSP", "Org2MSP"})
	if err != nil || strings.Join(got, ",") != "Org2MSP" {
		t.Fatalf("MissingOrgs = %v, %v", got, err)
	}
	if _, err := MissingOrgs(&common.Config{}, []string{"Org1MSP"}); err == nil {
		t.Fatal("config without Application group accepted")
	}
}
