package refresher

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics is an Observer that exports the refresher's series:
//
//   - workable_gateway_refresher_calls_total{credential}: the calls the
//     refresher made to Workable. Its share of the calls is this over
//     workable_gateway_workable_calls_total (every call, the refresher's
//     included), e.g. in PromQL:
//     sum(rate(workable_gateway_refresher_calls_total[5m])) /
//     sum(rate(workable_gateway_workable_calls_total[5m]))
//   - workable_gateway_refresher_lag_seconds{credential}: how old the
//     freshest complete picture is: every change made in Workable before
//     now minus the lag has been seen.
type Metrics struct {
	calls *prometheus.CounterVec
	lag   *prometheus.GaugeVec
}

// NewMetrics creates the series and registers them with reg (nothing is
// registered when reg is nil).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "workable_gateway",
			Name:      "refresher_calls_total",
			Help:      "Calls the background refresher made to Workable, by credential.",
		}, []string{"credential"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "workable_gateway",
			Name:      "refresher_lag_seconds",
			Help:      "Age of the refresher's freshest complete picture of a credential's candidates and jobs.",
		}, []string{"credential"}),
	}
	if reg != nil {
		reg.MustRegister(m.calls, m.lag)
	}
	return m
}

// Call implements Observer.
func (m *Metrics) Call(credential string) { m.calls.WithLabelValues(credential).Inc() }

// Lag implements Observer.
func (m *Metrics) Lag(credential string, lag time.Duration) {
	m.lag.WithLabelValues(credential).Set(lag.Seconds())
}
