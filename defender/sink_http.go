package defender

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
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
	err        error // the sink cannot be used (newHTTPSink); nothing is sent
}

// newHTTPSink prepares a sink for rawURL. It runs before the program starts, and settles
// there what the program could otherwise choose later (pinnedTransport). A sink that cannot
// be used safely is returned with err set, and sends nothing.
func newHTTPSink(rawURL, token string) *httpSink {
	tr, err := pinnedTransport(rawURL)
	return &httpSink{
		url: rawURL, token: token, err: err,
		client: &http.Client{Timeout: httpPostTimeout, Transport: tr,
			// A redirect would send the token on to wherever the answer points.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
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

// resolveTimeout bounds the lookup of the collector's name before the program starts.
const resolveTimeout = 5 * time.Second

// pinnedTransport is the sink's transport, made before the program starts. The program
// shares the defender's root, so anything read from its files later is the program's
// choice: one line in /etc/hosts, or one certificate added to the CA bundle, would send
// the bearer token to a host it picked. So the collector's name is resolved now and its
// addresses pinned, and the trust roots are loaded now and pinned; proxies from the
// environment are not used (their names would resolve later). When the pinned addresses
// all fail, an https sink resolves again at dial time: the certificate, checked against
// the roots loaded at start, still proves the collector's name. An http sink never does:
// its token would go to whatever the name resolves to by then.
func pinnedTransport(rawURL string) (*http.Transport, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("TASKWARD_EVENTS_URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("TASKWARD_EVENTS_URL: scheme %q: use https:// (or http://)", u.Scheme)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	var pinned []string
	if ip := net.ParseIP(host); ip != nil {
		pinned = []string{net.JoinHostPort(host, port)}
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
		addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
		cancel()
		if err != nil && u.Scheme == "http" {
			return nil, fmt.Errorf("TASKWARD_EVENTS_URL: resolve %s before the program starts: %w (an http:// sink never resolves later: use https://)", host, err)
		}
		for _, a := range addrs {
			pinned = append(pinned, net.JoinHostPort(a.String(), port))
		}
	}
	var roots *x509.CertPool
	if u.Scheme == "https" {
		// The system pool, read now from SSL_CERT_FILE, SSL_CERT_DIR or the image's bundle.
		// An empty pool when there is none: with RootCAs nil, Go would read the bundle at
		// the first handshake, when the program may have rewritten it.
		if roots, err = x509.SystemCertPool(); err != nil || roots == nil {
			roots = x509.NewCertPool()
		}
	}
	dialer := &net.Dialer{Timeout: httpPostTimeout}
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var errs []error
			for _, a := range pinned {
				c, err := dialer.DialContext(ctx, network, a)
				if err == nil {
					return c, nil
				}
				errs = append(errs, err)
			}
			if u.Scheme == "https" {
				return dialer.DialContext(ctx, network, net.JoinHostPort(host, port))
			}
			if len(errs) == 0 {
				return nil, fmt.Errorf("%s: no address", host)
			}
			return nil, errors.Join(errs...)
		},
		TLSClientConfig:     &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout: httpPostTimeout,
		MaxIdleConns:        2,
		IdleConnTimeout:     90 * time.Second,
	}, nil
}
