package ecslocal

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	mrand "math/rand/v2"
)

const (
	// targetPrefix is the X-Amz-Target namespace of the ECS API (version 2014-11-13).
	targetPrefix = "AmazonEC2ContainerServiceV20141113."
	// contentType is the AWS JSON 1.1 media type, used by requests and responses.
	contentType = "application/x-amz-json-1.1"
	// maxBodyBytes bounds a request body. ECS task definitions are at most 64 KiB, so
	// 1 MiB leaves room for every legitimate request and stops memory exhaustion.
	maxBodyBytes = 1 << 20
	// statsPath serves the per-operation call counters as JSON.
	statsPath = "/_ecslocal/stats"
	// faultsPath takes RuntimeFaults as JSON (POST) and shows them (GET).
	faultsPath = "/_ecslocal/faults"
)

// Server is an in-process ECS endpoint. It implements http.Handler.
type Server struct {
	cfg config

	mu sync.Mutex // guards st; held for the whole of each operation
	st *state

	faultMu sync.Mutex
	faults  Faults
	runtime RuntimeFaults // guarded by mu
	rng     *mrand.Rand

	statsMu sync.Mutex
	stats   map[string]int64
}

var _ http.Handler = (*Server)(nil)

// New returns a Server. With WithStateFile, state is loaded from the file when it exists.
func New(opts ...Option) (*Server, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.region == "" || cfg.account == "" {
		return nil, errors.New("ecslocal: region and account must not be empty")
	}
	s := &Server{cfg: cfg, st: newState(), stats: map[string]int64{}}
	s.SetFaults(Faults{})
	if cfg.stateFile != "" {
		st, err := loadState(cfg.stateFile)
		if err != nil {
			return nil, fmt.Errorf("ecslocal: %w", err)
		}
		if st != nil {
			s.st = st
		}
	}
	return s, nil
}

// operation is one ECS API action. run is called with s.mu held and returns the response
// body (marshalled while the lock is still held, so it may alias stored state).
type operation struct {
	mutates bool
	run     func(s *Server, body []byte) (any, error)
}

// operations lists the supported actions by X-Amz-Target name.
var operations = map[string]operation{
	"RegisterTaskDefinition":     {true, (*Server).registerTaskDefinition},
	"DescribeTaskDefinition":     {false, (*Server).describeTaskDefinition},
	"DeregisterTaskDefinition":   {true, (*Server).deregisterTaskDefinition},
	"DeleteTaskDefinitions":      {true, (*Server).deleteTaskDefinitions},
	"ListTaskDefinitions":        {false, (*Server).listTaskDefinitions},
	"ListTaskDefinitionFamilies": {false, (*Server).listTaskDefinitionFamilies},
	"CreateCluster":              {true, (*Server).createCluster},
	"DescribeClusters":           {false, (*Server).describeClusters},
	"ListClusters":               {false, (*Server).listClusters},
	"DeleteCluster":              {true, (*Server).deleteCluster},
	"UpdateCluster":              {true, (*Server).updateCluster},
	"CreateService":              {true, (*Server).createService},
	"DescribeServices":           {false, (*Server).describeServices},
	"ListServices":               {false, (*Server).listServices},
	"UpdateService":              {true, (*Server).updateService},
	"DeleteService":              {true, (*Server).deleteService},
	"RunTask":                    {true, (*Server).runTask},
	"StopTask":                   {true, (*Server).stopTask},
	"ListTasks":                  {false, (*Server).listTasks},
	"DescribeTasks":              {false, (*Server).describeTasks},
	"TagResource":                {true, (*Server).tagResource},
	"UntagResource":              {true, (*Server).untagResource},
	"ListTagsForResource":        {false, (*Server).listTagsForResource},
}

// ServeHTTP serves one AWS JSON 1.1 request, or GET /_ecslocal/stats.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == statsPath && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s.Stats())
		return
	}
	if r.URL.Path == faultsPath {
		s.serveFaults(w, r)
		return
	}
	start := time.Now()
	reqID := newRequestID()
	w.Header().Set("X-Amzn-Requestid", reqID)
	op, body, err := s.serve(w, r)
	level := slog.LevelDebug
	status := http.StatusOK
	attrs := []slog.Attr{slog.String("op", op), slog.String("requestId", reqID)}
	if err != nil {
		ae := asAPIError(err)
		status = ae.Status
		body = errorBody(ae)
		level = slog.LevelInfo
		if ae.Type == errServer {
			level = slog.LevelWarn
		}
		attrs = append(attrs, slog.String("errorType", ae.Type), slog.String("message", ae.Message))
	}
	attrs = append(attrs, slog.Int("status", status), slog.Duration("duration", time.Since(start)))
	s.cfg.log.LogAttrs(r.Context(), level, "ecs request", attrs...)
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// serve checks the request envelope, applies faults and runs the operation. It returns
// the operation name (for logs) and the marshalled response.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) (string, []byte, error) {
	if r.Method != http.MethodPost {
		return "", nil, &apiError{Type: errUnknownOperation, Status: http.StatusMethodNotAllowed,
			Message: "ECS accepts only POST requests"}
	}
	// Any SigV4 signature is accepted: this is a local endpoint, it checks that the
	// client signs (as real clients must) but not with which key.
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "", nil, newError(errMissingAuth, "Missing Authentication Token")
	}
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") {
		return "", nil, newError(errIncompleteSignature, "Authorization header requires an AWS4-HMAC-SHA256 signature")
	}
	target := r.Header.Get("X-Amz-Target")
	name, ok := strings.CutPrefix(target, targetPrefix)
	op, known := operations[name]
	if n, aas := strings.CutPrefix(target, autoScalingPrefix); aas {
		name, ok = n, true
		op, known = autoScalingOperations[n]
	}
	if !ok || !known {
		return name, nil, newError(errUnknownOperation, "unknown or unsupported operation %q", target)
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != contentType {
		return name, nil, newError(errSerialization, "Content-Type must be %s", contentType)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return name, nil, newError(errRequestTooLarge, "request body exceeds %d bytes", maxBodyBytes)
		}
		return name, nil, newError(errSerialization, "reading request body: %v", err)
	}

	s.count(name)
	latency, fault := s.injectFault(name)
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return name, nil, newError(errServer, "request cancelled")
		}
	}
	if fault != nil {
		if fault.Type == errThrottling {
			s.count(statThrottled)
		} else {
			s.count(statInjected)
		}
		return name, nil, fault
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	advanced := s.advance()
	out, err := op.run(s, body)
	if err != nil {
		return name, nil, err
	}
	resp, err := json.Marshal(out)
	if err != nil {
		return name, nil, fmt.Errorf("encoding %s response: %w", name, err)
	}
	if op.mutates || advanced {
		if err := s.persist(); err != nil {
			return name, nil, err
		}
	}
	return name, resp, nil
}

// errorBody is the AWS JSON error shape: {"__type": "...", "message": "..."}.
func errorBody(e *apiError) []byte {
	b, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{e.Type, e.Message})
	return b
}

// decode unmarshals a request body into v. An empty body is an empty object. Members v
// does not declare are ignored, as ECS ignores them; a member of the wrong JSON type is a
// SerializationException, as from ECS.
func decode(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return newError(errSerialization, "malformed request: %v", err)
	}
	return nil
}

// newRequestID returns a random UUID (version 4), the form of ECS request IDs.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// Running is a Server listening on a TCP address.
type Running struct {
	Server *Server
	// URL is the endpoint for clients, e.g. "http://127.0.0.1:4566": use it as the SDK's
	// BaseEndpoint or as AWS_ENDPOINT_URL_ECS.
	URL string

	srv      *http.Server
	closed   chan struct{}
	once     sync.Once
	serveErr chan error
	closeErr error
}

// Listen starts a Server on addr ("127.0.0.1:0" picks a free port). It serves until ctx
// is done or Close is called.
func Listen(ctx context.Context, addr string, opts ...Option) (*Running, error) {
	s, err := New(opts...)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ecslocal: listen on %s: %w", addr, err)
	}
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.cfg.log.Handler(), slog.LevelWarn),
	}
	r := &Running{Server: s, URL: "http://" + ln.Addr().String(), srv: hs,
		closed: make(chan struct{}), serveErr: make(chan error, 1)}
	go func() {
		err := hs.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		r.serveErr <- err
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = r.Close()
		case <-r.closed:
		}
	}()
	return r, nil
}

// Close stops the listener, waits up to 5 seconds for calls in flight, and returns the
// first error the server met. It is safe to call more than once.
func (r *Running) Close() error {
	r.once.Do(func() {
		close(r.closed)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := r.srv.Shutdown(ctx)
		if err != nil {
			_ = r.srv.Close()
		}
		r.closeErr = errors.Join(err, <-r.serveErr)
	})
	return r.closeErr
}
