// Package awsecs builds the ECS client that taskward's commands and controller share: the
// real AWS credential chain for production, or static dummy credentials and an explicit
// endpoint for ecslocal (DESIGN.md decision 9: local is chosen, never fallen back to).
package awsecs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// Modes.
const (
	ModeAWS   = "aws"   // standard credential chain, region from the environment or Config
	ModeLocal = "local" // ecslocal (or any ECS-compatible endpoint): dummy credentials
)

// DefaultRegion is used by ModeLocal when no region is given.
const DefaultRegion = "us-east-1"

// Config says which ECS to talk to and how hard to retry.
type Config struct {
	// Mode is ModeAWS or ModeLocal. An Endpoint with ModeAWS keeps real credentials (a VPC
	// endpoint or a proxy); ModeLocal requires an Endpoint.
	Mode     string
	Endpoint string // e.g. http://127.0.0.1:4566
	// Profile is the shared config profile for ModeAWS ("": AWS_PROFILE, else default).
	Profile string
	Region  string
	// MaxAttempts per call, first try included (default 10: ECS throttles per account and
	// a reconcile of a thousand families makes hundreds of calls).
	MaxAttempts int
	// MaxBackoff caps the wait between attempts (default 20s, the SDK's).
	MaxBackoff time.Duration
	// Adaptive selects the SDK's adaptive retry mode instead of standard. See New.
	Adaptive bool
}

// New builds an ECS client. Throttling is retried by the SDK's standard retryer with more
// attempts (default 10) and exponential backoff with jitter.
//
// Standard, not adaptive, by default: measured against ecslocal throttling 30% of calls at
// random, adaptive mode's client-side send-rate limiter kept cutting its rate (CUBIC) on
// every throttle and a 20-family reconcile had not finished after a minute, "failed to get
// retry Send token"; standard mode converged in well under a second. Adaptive suits a
// server that throttles by rate, as real ECS does per account; set Adaptive to use it.
//
// The SDK's client-side retry quota is disabled (ratelimit.None) in both modes: with it, a
// reconcile under sustained throttling fails with "retry quota exceeded" before the
// attempts run out, turning a slow reconcile into a failed one.
func New(ctx context.Context, c Config) (*ecs.Client, error) {
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 10
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 20 * time.Second
	}
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("ecs endpoint %q: must be an http(s) URL", c.Endpoint)
		}
	}
	loopback := false
	if c.Endpoint != "" {
		u, _ := url.Parse(c.Endpoint)
		if h := u.Hostname(); h == "localhost" {
			loopback = true
		} else if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
			loopback = true
		}
	}
	standard := func(o *retry.StandardOptions) {
		o.MaxAttempts = c.MaxAttempts
		o.MaxBackoff = c.MaxBackoff
		o.RateLimiter = ratelimit.None
		if loopback {
			// Nothing listening on this machine will not start listening within the
			// retries' 16-24 s: say so at once (callers add a hint).
			o.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
				if errors.Is(err, syscall.ECONNREFUSED) {
					return aws.FalseTernary
				}
				return aws.UnknownTernary
			})}, o.Retryables...)
		}
	}
	retryer := func() aws.Retryer {
		if c.Adaptive {
			return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
				o.StandardOptions = append(o.StandardOptions, standard)
			})
		}
		return retry.NewStandard(standard)
	}
	var opts []func(*config.LoadOptions) error
	switch c.Mode {
	case ModeAWS:
		if c.Region != "" {
			opts = append(opts, config.WithRegion(c.Region))
		}
		if c.Profile != "" {
			opts = append(opts, config.WithSharedConfigProfile(c.Profile))
		}
	case ModeLocal:
		if c.Endpoint == "" {
			return nil, errors.New("ecs mode local needs an endpoint (the ecslocal URL)")
		}
		if c.Region == "" {
			c.Region = DefaultRegion
		}
		// Dummy credentials: ecslocal does not check signatures, and the real chain must
		// not be consulted (or leak real keys to a local endpoint).
		opts = append(opts, config.WithRegion(c.Region),
			config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("taskward-local", "taskward-local", "")))
	default:
		return nil, fmt.Errorf("ecs mode %q: must be %q or %q", c.Mode, ModeAWS, ModeLocal)
	}
	opts = append(opts, config.WithRetryer(retryer))
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load aws config: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("no AWS region: set AWS_REGION or pass a region")
	}
	return ecs.NewFromConfig(cfg, func(o *ecs.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
	}), nil
}

// AutoScalingFor returns the Application Auto Scaling client that goes with c: the same
// region, credentials, endpoint (ecslocal serves both APIs; a BaseEndpoint given for ECS
// is used for this one too) and retryer. reconcile asks it which services have a scalable
// target, whose desiredCount it then leaves to Application Auto Scaling.
func AutoScalingFor(c *ecs.Client) *applicationautoscaling.Client {
	o := c.Options()
	return applicationautoscaling.New(applicationautoscaling.Options{
		Region: o.Region, Credentials: o.Credentials, BaseEndpoint: o.BaseEndpoint, Retryer: o.Retryer,
		HTTPClient: o.HTTPClient, Logger: o.Logger, ClientLogMode: o.ClientLogMode, AppID: o.AppID,
		RetryMaxAttempts: o.RetryMaxAttempts, RetryMode: o.RetryMode,
	})
}
