package peer

import "github.com/prometheus/client_golang/prometheus"

var heightDesc = prometheus.NewDesc("ledger_blockchain_height",
	"Height of the channel's ledger.", []string{"channel"}, nil)

type ledgerCollector struct{ c *channels }

func registerMetrics(reg *prometheus.Registry, c *channels) { reg.MustRegister(&ledgerCollector{c}) }

func (l *ledgerCollector) Describe(ch chan<- *prometheus.Desc) { ch <- heightDesc }

func (l *ledgerCollector) Collect(ch chan<- prometheus.Metric) {
	for _, id := range l.c.List() {
		if c, ok := l.c.get(id); ok {
			ch <- prometheus.MustNewConstMetric(heightDesc, prometheus.GaugeValue, float64(c.Height()), id)
		}
	}
}
