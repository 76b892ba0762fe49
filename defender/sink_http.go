package defender

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"
)

// Bounds of the HTTP sink: queued events, events per POST, bytes per POST, attempts per
// batch, and the backoff between attempts.
const (
	httpQueue       = 1000
	httpBatch       = 100
	httpBatchBytes  = 256 << 10
	httpAttempts    = 5
	httpFlush       = time.Second
	httpBackoffMin  = 500 * time.Millisecond
	httpBackoffMax  = 30 * time.Second
	httpPostTimeout = 10 * time.Second
)

// httpSink POSTs JSON arrays of events to a collector (the controller's /v1/events).
// It runs in its own goroutine; enqueue never blocks.
type httpSink struct {
	url, token string
	client     *http.Client
	queue      chan []byte
	stop       chan struct{}
	done       chan struct{}
	dropped    atomic.Int64
	sent       atomic.Int64
	backoffMin time.Duration
}

func newHTTPSink(url, token string) *httpSink {
	return &httpSink{
		url: url, token: token,
		client:     &http.Client{Timeout: httpPostTimeout},
		queue:      make(chan []byte, httpQueue),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
		backoffMin: httpBackoffMin,
	}
}

func (h *httpSink) enqueue(ev []byte) {
	select {
	case h.queue <- ev:
	default:
		h.dropped.Add(1)
	}
}

func (h *httpSink) run() {
	defer close(h.done)
	tick := time.NewTicker(httpFlush)
	defer tick.Stop()
	var batch [][]byte
	size := 0
	flush := func(final bool) {
		if len(batch) == 0 {
			return
		}
		h.deliver(batch, final)
		batch, size = nil, 0
	}
	for {
		select {
		case ev := <-h.queue:
			batch = append(batch, ev)
			size += len(ev) + 1
			if len(batch) >= httpBatch || size >= httpBatchBytes {
				flush(false)
			}
		case <-tick.C:
			flush(false)
		case <-h.stop:
			for {
				select {
				case ev := <-h.queue:
					batch = append(batch, ev)
					if len(batch) >= httpBatch {
						flush(true)
					}
					continue
				default:
				}
				break
			}
			flush(true)
			return
		}
	}
}

// deliver POSTs one batch, retrying with exponential backoff; a batch that still fails is
// dropped and counted. final means the defender is exiting: one attempt only.
func (h *httpSink) deliver(batch [][]byte, final bool) {
	body := append([]byte{'['}, bytes.Join(batch, []byte{','})...)
	body = append(body, ']')
	backoff := h.backoffMin
	for attempt := 1; ; attempt++ {
		err := h.post(body)
		if err == nil {
			h.sent.Add(int64(len(batch)))
			return
		}
		if final || attempt == httpAttempts {
			h.dropped.Add(int64(len(batch)))
			return
		}
		select {
		case <-time.After(backoff):
		case <-h.stop:
			final = true
		}
		backoff = min(2*backoff, httpBackoffMax)
	}
}

func (h *httpSink) post(body []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), httpPostTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if h.token != "" {
		req.Header.Set("Authorization", "Bearer "+h.token)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		// The status only: the URL may carry credentials and the token is never logged.
		return fmt.Errorf("events endpoint answered %d", resp.StatusCode)
	}
	return nil
}

// close asks the sink to send what it holds and waits until it has, or until deadline.
func (h *httpSink) close(deadline <-chan time.Time) {
	close(h.stop)
	select {
	case <-h.done:
	case <-deadline:
	}
}
