package ecslocal

import (
	"maps"
	"math/rand/v2"
	"time"
)

// Faults makes the server misbehave on purpose, so callers can test their retries and
// error handling against the same wire protocol real ECS speaks.
type Faults struct {
	// ThrottleFraction of calls (0..1) are answered with ThrottlingException, which the
	// SDK's standard retryer retries with backoff.
	ThrottleFraction float64
	// Seed seeds the RNG that picks throttled calls, so a sequential test sees the same
	// calls throttled on every run.
	Seed int64
	// FailOps maps an operation name (e.g. "RegisterTaskDefinition", or "*" for every
	// operation) to the error type it fails with (e.g. "ServerException",
	// "ClientException"). The failure happens before the operation runs: no state changes.
	FailOps map[string]string
	// Latency is added to every call before it is served.
	Latency time.Duration
}

// SetFaults replaces the fault configuration and reseeds the throttling RNG.
func (s *Server) SetFaults(f Faults) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	f.FailOps = maps.Clone(f.FailOps)
	s.faults = f
	s.rng = rand.New(rand.NewPCG(uint64(f.Seed), 0x6563736c6f63616c)) // "ecslocal"
}

// injectFault decides the fate of one call of op: the latency to add and the error to
// answer with instead of serving it (nil to serve it).
func (s *Server) injectFault(op string) (time.Duration, *apiError) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	f := s.faults
	if typ, ok := f.FailOps[op]; ok {
		return f.Latency, newError(typ, "ecslocal: injected failure for %s", op)
	}
	if typ, ok := f.FailOps["*"]; ok {
		return f.Latency, newError(typ, "ecslocal: injected failure for %s", op)
	}
	if f.ThrottleFraction > 0 && s.rng.Float64() < f.ThrottleFraction {
		return f.Latency, newError(errThrottling, "Rate exceeded")
	}
	return f.Latency, nil
}

// Stats keys besides operation names (operation names are CamelCase, these are not).
const (
	statThrottled = "throttled" // calls answered with an injected ThrottlingException
	statInjected  = "injected"  // calls answered with an injected FailOps error
)

// Stats returns how many calls each operation received (counting throttled and failed
// calls too), plus "throttled" and "injected": the calls answered by injected faults.
func (s *Server) Stats() map[string]int64 {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	return maps.Clone(s.stats)
}

// ResetStats sets every counter back to zero.
func (s *Server) ResetStats() {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	clear(s.stats)
}

func (s *Server) count(key string) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	s.stats[key]++
}
