package operator

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "weft/k8s/api/v1alpha1"
	"weft/spec"
)

// Condition reasons the operator sets.
const (
	ReasonRenderFailed    = "RenderFailed"
	ReasonMaterialFailed  = "MaterialFailed"
	ReasonApplyFailed     = "ApplyFailed"
	ReasonNamespaceInUse  = "NamespaceInUse"
	ReasonWaitingForPods  = "WaitingForPods"
	ReasonPodsReady       = "PodsReady"
	ReasonPopulating      = "Populating"
	ReasonPopulateFailed  = "PopulationFailed"
	ReasonWaitingChannel  = "WaitingForChannel"
	ReasonJoined          = "Joined"
	ReasonCommitted       = "Committed"
	ReasonReconciled      = "Reconciled"
	ReasonNotOnChannel    = "NotOnChannel"
	ReasonOrdererOrgReady = "OrdererOrgReady"
)

// cond is one condition to set.
type cond struct {
	ok      bool
	reason  string
	message string
}

func setCond(list *[]metav1.Condition, typ string, c cond, gen int64) {
	s := metav1.ConditionFalse
	if c.ok {
		s = metav1.ConditionTrue
	}
	meta.SetStatusCondition(list, metav1.Condition{Type: typ, Status: s, Reason: c.reason, Message: truncate(c.message), ObservedGeneration: gen})
}

// truncate keeps messages within the API's 32768 byte limit for a
// condition message (long join errors can be large).
func truncate(s string) string {
	const limit = 4096
	if len(s) <= limit {
		return s
	}
	return s[:limit-3] + "..."
}

// components rebuilds a component list in the given order, carrying over
// the conditions of entries that still exist so transition times stay.
func components(old []v1alpha1.ComponentStatus, names []string) []v1alpha1.ComponentStatus {
	prev := map[string][]metav1.Condition{}
	for _, c := range old {
		prev[c.Name] = c.Conditions
	}
	out := make([]v1alpha1.ComponentStatus, 0, len(names))
	seen := map[string]bool{}
	for _, n := range names {
		// The status lists are keyed by name; a spec that repeats one
		// (and fails validation) must still give a status the API accepts.
		if seen[n] || n == "" {
			continue
		}
		seen[n] = true
		out = append(out, v1alpha1.ComponentStatus{Name: n, Conditions: prev[n]})
	}
	return out
}

func component(list []v1alpha1.ComponentStatus, name string) *[]metav1.Condition {
	for i := range list {
		if list[i].Name == name {
			return &list[i].Conditions
		}
	}
	return nil
}

// ChaincodeStatusName is the status entry name of a chaincode.
func ChaincodeStatusName(cc *spec.Chaincode) string { return cc.Channel + "/" + cc.Name }

// statusNames lists the org, channel and chaincode entries of a network.
func statusNames(n *spec.Network) (orgs, channels, chaincodes []string) {
	orgs = append(orgs, n.Orderer.Org)
	for _, o := range n.Orgs {
		orgs = append(orgs, o.Name)
	}
	for _, c := range n.Channels {
		channels = append(channels, c.Name)
	}
	for i := range n.Chaincodes {
		chaincodes = append(chaincodes, ChaincodeStatusName(&n.Chaincodes[i]))
	}
	return orgs, channels, chaincodes
}

// phase summarises the conditions: every org, channel and chaincode ready
// is Ready; a failure of the last step is Failed (nothing could be
// applied) or Degraded (it was Ready before); otherwise Provisioning.
func phase(st *v1alpha1.NetworkStatus, applied bool, failed bool) v1alpha1.NetworkPhase {
	if !applied {
		if failed {
			return v1alpha1.PhaseFailed
		}
		return v1alpha1.PhasePending
	}
	if meta.IsStatusConditionTrue(st.Conditions, v1alpha1.ConditionReady) {
		return v1alpha1.PhaseReady
	}
	if failed && st.Phase == v1alpha1.PhaseReady {
		return v1alpha1.PhaseDegraded
	}
	return v1alpha1.PhaseProvisioning
}

// allTrue says whether every component has its condition typ true.
func allTrue(list []v1alpha1.ComponentStatus, typ string) bool {
	for _, c := range list {
		if !meta.IsStatusConditionTrue(c.Conditions, typ) {
			return false
		}
	}
	return true
}
