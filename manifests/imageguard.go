package manifests

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
)

// RegistryOf returns the registry host of an image reference as go-containerregistry
// names it ("index.docker.io" for Docker Hub names), or "" when image is not a reference.
func RegistryOf(image string) string {
	ref, err := name.ParseReference(image)
	if err != nil {
		return ""
	}
	return ref.Context().RegistryStr()
}

// Errors of a GuardedImages lookup; a review that hits one fails with it.
var (
	ErrRegistryNotAllowed = errors.New("not a registry the controller's configuration uses")
	ErrLookupBudget       = errors.New("too many image lookups")
	ErrLookupTimeout      = errors.New("no answer from the registry in time")
	ErrLookupFailed       = errors.New("the registry did not give the image's config")
)

// GuardOptions bound what a GuardedImages may look up.
type GuardOptions struct {
	// Allowed are the registry hosts (as RegistryOf names them) lookups may go to. A
	// pull request's files never add to it: the controller's flags and the base branch do.
	Allowed map[string]bool
	// MaxLookups bounds the lookups of one GuardedImages (one review); 0 means 50.
	MaxLookups int
	// Timeout bounds each lookup; 0 means 10s.
	Timeout time.Duration
	// Slots, when set, bounds concurrent lookups across every GuardedImages sharing it
	// (one controller): a lookup waits for a free slot (or its context).
	Slots chan struct{}
	// OnError receives the network error of a failed lookup, for the controller's log:
	// what ImageConfig returns says only that the lookup failed, so that no error text
	// (which maps open and closed ports) reaches a pull-request comment.
	OnError func(image string, err error)
}

// GuardedImages is the ImageSource of a pull-request review: lookups only on allowed
// registries, counted, timed and limited in concurrency, and failures without network
// detail. Use one per review.
type GuardedImages struct {
	inner ImageSource
	o     GuardOptions
	mu    sync.Mutex
	n     int
}

var _ ImageSource = (*GuardedImages)(nil)

// NewGuardedImages wraps inner.
func NewGuardedImages(inner ImageSource, o GuardOptions) *GuardedImages {
	if o.MaxLookups == 0 {
		o.MaxLookups = 50
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	return &GuardedImages{inner: inner, o: o}
}

// Lookups returns how many lookups were made.
func (g *GuardedImages) Lookups() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.n
}

// ImageConfig implements ImageSource.
func (g *GuardedImages) ImageConfig(ctx context.Context, image, platform string) (*ImageConfig, error) {
	host := RegistryOf(image)
	if host == "" || !g.o.Allowed[host] {
		return nil, fmt.Errorf("image %s: registry %q: %w (its base branch's images and --review-registry): a review never looks up an image on a registry a pull request chose", image, host, ErrRegistryNotAllowed)
	}
	g.mu.Lock()
	g.n++
	over := g.n > g.o.MaxLookups
	g.mu.Unlock()
	if over {
		return nil, fmt.Errorf("image %s: %w: more than %d in one review", image, ErrLookupBudget, g.o.MaxLookups)
	}
	ctx, cancel := context.WithTimeout(ctx, g.o.Timeout)
	defer cancel()
	if g.o.Slots != nil {
		select {
		case g.o.Slots <- struct{}{}:
			defer func() { <-g.o.Slots }()
		case <-ctx.Done():
			return nil, fmt.Errorf("image %s: %w (%s, waiting for a free lookup slot)", image, ErrLookupTimeout, g.o.Timeout)
		}
	}
	type answer struct {
		ic  *ImageConfig
		err error
	}
	done := make(chan answer, 1)
	go func() { // the inner source may not honour ctx everywhere: never wait past it
		ic, err := g.inner.ImageConfig(ctx, image, platform)
		done <- answer{ic, err}
	}()
	select {
	case a := <-done:
		if a.err != nil {
			if g.o.OnError != nil {
				g.o.OnError(image, a.err)
			}
			if ctx.Err() != nil {
				return nil, fmt.Errorf("image %s: %w (%s)", image, ErrLookupTimeout, g.o.Timeout)
			}
			return nil, fmt.Errorf("image %s: %w (the controller's log has why)", image, ErrLookupFailed)
		}
		return a.ic, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("image %s: %w (%s)", image, ErrLookupTimeout, g.o.Timeout)
	}
}

// GuardedTransport is an HTTP transport for review lookups that never connects to a
// loopback, private (RFC 1918, RFC 4193), link-local (cloud metadata at 169.254.169.254),
// unspecified or multicast address, unless the registry host (host or host:port) is in
// allowPrivate. The check is made on the address actually dialled, after DNS, so a name
// that resolves to 127.0.0.1 is refused too.
func GuardedTransport(allowPrivate []string) *http.Transport {
	allow := map[string]bool{}
	for _, h := range allowPrivate {
		allow[h] = true
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil // a proxy would dial for us, past the check
	guarded := &net.Dialer{Timeout: 10 * time.Second, Control: func(network, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		ip := net.ParseIP(host)
		if ip == nil || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
			ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast() {
			return fmt.Errorf("%s is a loopback, private or link-local address: reviews do not connect there unless the registry is given to --review-registry", address)
		}
		return nil
	}}
	open := &net.Dialer{Timeout: 10 * time.Second}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, _ := net.SplitHostPort(addr)
		if allow[addr] || allow[host] || allow[strings.TrimSuffix(addr, ":443")] {
			return open.DialContext(ctx, network, addr)
		}
		return guarded.DialContext(ctx, network, addr)
	}
	return t
}
