package peer

import (
	"github.com/prometheus/client_golang/prometheus"

	"weft/peer/membership"
)

var (
	heightDesc = prometheus.NewDesc("ledger_blockchain_height",
		"Height of the channel's ledger.", []string{"channel"}, nil)
	// Fabric's gossip metric of the same name counts the peers a peer
	// knows to be alive on a channel; weft's counts its membership table.
	knownPeersDesc = prometheus.NewDesc("gossip_membership_total_peers_known",
		"Total known peers on the channel.", []string{"channel"}, nil)
)

type ledgerCollector struct {
	c       *channels
	members *membership.Service
}

func registerMetrics(reg *prometheus.Registry, c *channels, m *membership.Service) {
	reg.MustRegister(&ledgerCollector{c, m})
}

func (l *ledgerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- heightDesc
	ch <- knownPeersDesc
}

func (l *ledgerCollector) Collect(ch chan<- prometheus.Metric) {
	for _, id := range l.c.List() {
		if c, ok := l.c.get(id); ok {
			ch <- prometheus.MustNewConstMetric(heightDesc, prometheus.GaugeValue, float64(c.Height()), id)
		}
		if l.members != nil {
			ch <- prometheus.MustNewConstMetric(knownPeersDesc, prometheus.GaugeValue, float64(len(l.members.Members(id))), id)
		}
	}
}
