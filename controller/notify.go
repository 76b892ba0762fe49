package controller

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/taskward/taskward/internal/scrub"
	"github.com/taskward/taskward/internal/textsafe"
)

// Notifier delivers one alert.
type Notifier interface {
	Notify(ctx context.Context, a Alert) error
	Name() string
}

// newHTTPClient returns a retrying client: a few quick retries with backoff for each
// delivery; the dispatcher keeps undelivered alerts and tries again later.
func newHTTPClient(log *slog.Logger) *retryablehttp.Client {
	c := retryablehttp.NewClient()
	c.RetryMax = 3
	c.RetryWaitMin = 200 * time.Millisecond
	c.RetryWaitMax = 2 * time.Second
	c.HTTPClient.Timeout = 10 * time.Second
	c.Logger = nil // its logs would print the URL, which for Slack is the secret
	return c
}

// HTTPNotifier posts each alert to a URL, in a format of its kind: a generic JSON webhook
// or a Slack incoming webhook.
type HTTPNotifier struct {
	name   string
	url    string
	format func(Alert) ([]byte, error)
	client *retryablehttp.Client
}

var _ Notifier = (*HTTPNotifier)(nil)

// NewWebhookNotifier returns a notifier that posts each alert as JSON.
func NewWebhookNotifier(url string, log *slog.Logger) *HTTPNotifier {
	return &HTTPNotifier{name: "webhook", url: url, client: newHTTPClient(log), format: func(a Alert) ([]byte, error) {
		a.Detail = scrub.String(a.Detail)
		return json.Marshal(a)
	}}
}

// NewSlackNotifier returns a notifier for a Slack incoming webhook ({"text": ...}, mrkdwn).
func NewSlackNotifier(url string, log *slog.Logger) *HTTPNotifier {
	return &HTTPNotifier{name: "slack", url: url, client: newHTTPClient(log), format: slackText}
}

func slackText(a Alert) ([]byte, error) {
	icon := ":rotating_light:"
	if a.State == "resolved" {
		icon = ":white_check_mark:"
	}
	text := fmt.Sprintf("%s *taskward %s: %s* `%s`\n%s", icon, a.State, slackEscape(string(a.Kind)), slackCode(a.Resource), slackEscape(scrub.String(a.Detail)))
	if a.Revision != "" {
		text += fmt.Sprintf("\ntask definition: `%s`", slackCode(a.Revision))
	}
	return json.Marshal(map[string]string{"text": text})
}

// slackEscaper follows Slack's "Escaping text" rules (api.slack.com, formatting): &, <
// and > are the only characters Slack reads as control sequences (<!channel>, <@U123>,
// <https://x|text>). A zero-width space after "@" keeps @channel, @here and @everyone
// plain text should the webhook be set to link names.
var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "@", "@\u200b")

// slackEscape encodes text from ECS or a defender event for Slack mrkdwn.
func slackEscape(s string) string { return slackEscaper.Replace(textsafe.Controls(s)) }

// slackCode encodes s for a `code` span: a backtick would end it.
func slackCode(s string) string {
	return strings.ReplaceAll(slackEscape(strings.ReplaceAll(s, "\n", " ")), "`", "'")
}

// Name implements Notifier.
func (n *HTTPNotifier) Name() string { return n.name }

// Notify implements Notifier.
func (n *HTTPNotifier) Notify(ctx context.Context, a Alert) error {
	body, err := n.format(a)
	if err != nil {
		return err
	}
	return post(ctx, n.client, n.url, body)
}

func post(ctx context.Context, c *retryablehttp.Client, target string, body []byte) error {
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("notifier: bad URL")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		// The error text holds the URL, whose path is the secret for Slack: report only
		// the transport's own error.
		var ue *url.Error
		if errors.As(err, &ue) {
			return fmt.Errorf("notifier: delivery failed: %s", scrub.Error(ue.Err))
		}
		return fmt.Errorf("notifier: delivery failed after retries")
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("notifier: receiver answered %d", resp.StatusCode)
	}
	return nil
}

// dispatcher queues alerts and delivers them in the background, in order, to every
// notifier. Enqueue never blocks: a receiver that is down holds alerts in the queue
// (bounded; the oldest are dropped and counted) and they are delivered when it is back.
type dispatcher struct {
	notifiers []Notifier
	log       *slog.Logger
	metrics   *metrics

	mu      sync.Mutex
	pending []pendingAlert
	wake    chan struct{}
	max     int
}

type pendingAlert struct {
	a    Alert
	todo []Notifier // notifiers that have not yet taken it
}

func newDispatcher(ns []Notifier, log *slog.Logger, m *metrics) *dispatcher {
	return &dispatcher{notifiers: ns, log: log, metrics: m, wake: make(chan struct{}, 1), max: 10000}
}

func (d *dispatcher) enqueue(alerts ...Alert) {
	if len(d.notifiers) == 0 || len(alerts) == 0 {
		return
	}
	d.mu.Lock()
	for _, a := range alerts {
		d.pending = append(d.pending, pendingAlert{a: a, todo: append([]Notifier(nil), d.notifiers...)})
	}
	if over := len(d.pending) - d.max; over > 0 {
		d.pending = d.pending[over:]
		d.metrics.alertsDropped.Add(float64(over))
	}
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// run delivers until ctx ends, backing off (up to a minute) while a receiver fails.
func (d *dispatcher) run(ctx context.Context) {
	backoff := time.Second
	for {
		if d.deliver(ctx) {
			backoff = time.Second
			select {
			case <-ctx.Done():
				return
			case <-d.wake:
			}
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		case <-d.wake:
		}
		backoff = min(2*backoff, time.Minute)
	}
}

// deliver sends the queue in order; it reports whether the queue is empty. A notifier
// that fails stops its own deliveries for this round (keeping order), not the others'.
func (d *dispatcher) deliver(ctx context.Context) bool {
	failed := map[Notifier]bool{}
	for {
		d.mu.Lock()
		if len(d.pending) == 0 {
			d.mu.Unlock()
			return true
		}
		idx := -1
		for i, p := range d.pending {
			for _, n := range p.todo {
				if !failed[n] {
					idx = i
					break
				}
			}
			if idx >= 0 {
				break
			}
		}
		if idx < 0 {
			d.mu.Unlock()
			return false
		}
		p := d.pending[idx]
		d.mu.Unlock()

		var left []Notifier
		for _, n := range p.todo {
			if failed[n] {
				left = append(left, n)
				continue
			}
			if err := n.Notify(ctx, p.a); err != nil {
				failed[n] = true
				left = append(left, n)
				d.metrics.alerts.WithLabelValues(n.Name(), "failed").Inc()
				d.log.Warn("alert delivery failed; will retry", "notifier", n.Name(), "kind", p.a.Kind, "resource", p.a.Resource, "error", err.Error())
				continue
			}
			d.metrics.alerts.WithLabelValues(n.Name(), "sent").Inc()
		}
		d.mu.Lock()
		// The queue may have been trimmed meanwhile; find the same entry again.
		for i := range d.pending {
			if d.pending[i].a.Time.Equal(p.a.Time) && key(d.pending[i].a.Finding) == key(p.a.Finding) && d.pending[i].a.State == p.a.State {
				if len(left) == 0 {
					d.pending = append(d.pending[:i], d.pending[i+1:]...)
				} else {
					d.pending[i].todo = left
				}
				break
			}
		}
		d.mu.Unlock()
		if ctx.Err() != nil {
			return false
		}
	}
}
