package controller

import (
	"context"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/taskward/taskward/reconcile"
)

// metrics are the controller's Prometheus metrics, on a registry of its own (no globals).
type metrics struct {
	reg              *prometheus.Registry
	reconcileSeconds *prometheus.HistogramVec
	reconciles       *prometheus.CounterVec
	apiCalls         *prometheus.CounterVec
	drift            *prometheus.GaugeVec
	serviceHealth    *prometheus.GaugeVec
	alerts           *prometheus.CounterVec
	alertsDropped    prometheus.Counter
	events           *prometheus.CounterVec
	eventsRejected   *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		reconcileSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "taskward_reconcile_duration_seconds", Help: "Time a reconcile took, by result.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 12),
		}, []string{"result"}),
		reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taskward_reconciles_total", Help: "Reconciles run, by result (synced, applied, failed, broken-commit).",
		}, []string{"result"}),
		apiCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taskward_ecs_api_calls_total", Help: "ECS API calls, by operation.",
		}, []string{"operation"}),
		drift: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "taskward_drift", Help: "Resources found drifted by the last scan, by kind.",
		}, []string{"kind"}),
		serviceHealth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "taskward_service_health", Help: "1 for each service's current health (Healthy, Progressing, Degraded, Missing, Unknown).",
		}, []string{"cluster", "service", "health"}),
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taskward_alerts_total", Help: "Alert deliveries, by notifier and result (sent, failed).",
		}, []string{"notifier", "result"}),
		alertsDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "taskward_alerts_dropped_total", Help: "Alerts dropped because the queue was full.",
		}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taskward_defender_events_total", Help: "Defender events received, by action (blocked, alerted, killed).",
		}, []string{"action"}),
		eventsRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taskward_defender_event_requests_rejected_total", Help: "Event requests refused, by reason.",
		}, []string{"reason"}),
	}
	m.reg.MustRegister(m.reconcileSeconds, m.reconciles, m.apiCalls, m.drift, m.serviceHealth, m.alerts, m.alertsDropped, m.events, m.eventsRejected,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	for _, k := range reconcile.DriftKinds {
		m.drift.WithLabelValues(string(k)).Set(0)
	}
	return m
}

// countCalls returns ECS client options that count every API call by operation.
func (m *metrics) countCalls() func(*ecs.Options) {
	return func(o *ecs.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("taskwardCountCalls",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					m.apiCalls.WithLabelValues(awsmiddleware.GetOperationName(ctx)).Inc()
					return next.HandleInitialize(ctx, in)
				}), middleware.After)
		})
	}
}
