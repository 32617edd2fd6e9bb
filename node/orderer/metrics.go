package orderer

import (
	"github.com/prometheus/client_golang/prometheus"

	"weft/orderer/registrar"
)

// registerMetrics exposes per-channel consensus state under Fabric's
// metric names, so existing dashboards and tests (e.g. "who is leader")
// keep working.
func registerMetrics(reg *prometheus.Registry, r *registrar.Registrar) {
	reg.MustRegister(&chainCollector{r: r})
}

var (
	isLeaderDesc = prometheus.NewDesc("consensus_etcdraft_is_leader",
		"Whether this node is the Raft leader of the channel (1) or not (0).", []string{"channel"}, nil)
	leaderIDDesc = prometheus.NewDesc("consensus_etcdraft_leader_id",
		"The Raft ID of the channel's current leader (0 when unknown).", []string{"channel"}, nil)
	heightDesc = prometheus.NewDesc("ledger_blockchain_height",
		"Height of the channel's block store.", []string{"channel"}, nil)
)

type chainCollector struct{ r *registrar.Registrar }

func (c *chainCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- isLeaderDesc
	ch <- leaderIDDesc
	ch <- heightDesc
}

func (c *chainCollector) Collect(ch chan<- prometheus.Metric) {
	for _, id := range c.r.Channels() {
		cn, ok := c.r.Chain(id)
		if !ok {
			continue
		}
		st := cn.Status()
		leader := 0.0
		if st.IsLeader {
			leader = 1
		}
		ch <- prometheus.MustNewConstMetric(isLeaderDesc, prometheus.GaugeValue, leader, id)
		ch <- prometheus.MustNewConstMetric(leaderIDDesc, prometheus.GaugeValue, float64(st.Leader), id)
		ch <- prometheus.MustNewConstMetric(heightDesc, prometheus.GaugeValue, float64(st.Height), id)
	}
}
