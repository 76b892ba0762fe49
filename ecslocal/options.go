package ecslocal

import (
	"log/slog"
	"time"
)

// Option configures a Server.
type Option func(*config)

type config struct {
	region    string
	account   string
	stateFile string
	log       *slog.Logger
	now       func() time.Time
}

func defaultConfig() config {
	return config{
		region:  "us-east-1",
		account: "000000000000",
		log:     slog.New(slog.DiscardHandler),
		now:     time.Now,
	}
}

// WithRegion sets the region written into ARNs (default "us-east-1"). The server does not
// check the region a client signs for: ecslocal is one endpoint for one region.
func WithRegion(region string) Option { return func(c *config) { c.region = region } }

// WithAccount sets the account ID written into ARNs and registeredBy (default "000000000000").
func WithAccount(account string) Option { return func(c *config) { c.account = account } }

// WithStateFile persists state to path: it is loaded by New when the file exists and
// rewritten atomically after every successful mutating call. Without it state lives in
// memory only.
func WithStateFile(path string) Option { return func(c *config) { c.stateFile = path } }

// WithLogger sets the logger for request logs (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.log = l
		}
	}
}

// WithClock sets the clock used for registeredAt, createdAt and similar timestamps.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}
