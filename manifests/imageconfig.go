package manifests

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// ImageConfig is the part of an image's configuration that decides what a container runs.
type ImageConfig struct {
	Entrypoint []string
	Cmd        []string
	// Digest is the manifest digest the config was read from ("" for an override).
	Digest string
	// Source says where the config came from, for reports: a registry, or an override.
	Source string
}

// ImageSource reads image configs. platform is "linux/amd64" or "linux/arm64".
type ImageSource interface {
	ImageConfig(ctx context.Context, image, platform string) (*ImageConfig, error)
}

// RegistrySource reads image configs from registries through go-containerregistry, with
// credentials from the Docker config (and its credential helpers) and, for ECR, from the
// AWS SDK's GetAuthorizationToken. Answers are cached by manifest digest, and tags are
// resolved once per source (one render run), so rendering 1,000 tasks of one image asks
// the registry once.
type RegistrySource struct {
	insecure map[string]bool
	keychain authn.Keychain
	mu       sync.Mutex
	byRef    map[string]*ImageConfig // "platform ref" -> config, for this run
	byDigest map[string]*ImageConfig // "platform digest" -> config
	opts     []remote.Option
}

// RegistryOption configures a RegistrySource.
type RegistryOption func(*RegistrySource)

// WithInsecureRegistries allows plain HTTP to these registry hosts (host or host:port).
// Loopback hosts are always allowed plain HTTP.
func WithInsecureRegistries(hosts ...string) RegistryOption {
	return func(s *RegistrySource) {
		for _, h := range hosts {
			s.insecure[h] = true
		}
	}
}

// WithECR adds ECR credentials through the given ECR client (GetAuthorizationToken).
func WithECR(client ECRAuthorizer) RegistryOption {
	return func(s *RegistrySource) {
		s.keychain = authn.NewMultiKeychain(&ecrKeychain{client: client, cache: map[string]authn.Authenticator{}}, s.keychain)
	}
}

// WithRemoteOptions passes options to go-containerregistry (a transport, for tests).
func WithRemoteOptions(opts ...remote.Option) RegistryOption {
	return func(s *RegistrySource) { s.opts = append(s.opts, opts...) }
}

// NewRegistrySource returns a source with anonymous and Docker-config credentials.
func NewRegistrySource(opts ...RegistryOption) *RegistrySource {
	s := &RegistrySource{
		insecure: map[string]bool{},
		keychain: authn.DefaultKeychain,
		byRef:    map[string]*ImageConfig{},
		byDigest: map[string]*ImageConfig{},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

var _ ImageSource = (*RegistrySource)(nil)

// ImageConfig implements ImageSource.
func (s *RegistrySource) ImageConfig(ctx context.Context, image, platform string) (*ImageConfig, error) {
	key := platform + " " + image
	s.mu.Lock()
	if c, ok := s.byRef[key]; ok {
		s.mu.Unlock()
		return c, nil
	}
	s.mu.Unlock()

	var nameOpts []name.Option
	if s.plainHTTP(image) {
		nameOpts = append(nameOpts, name.Insecure)
	}
	ref, err := name.ParseReference(image, nameOpts...)
	if err != nil {
		return nil, fmt.Errorf("image %q is not a valid reference: %w", image, err)
	}
	plat, err := v1.ParsePlatform(platform)
	if err != nil {
		return nil, err
	}
	opts := append([]remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(s.keychain), remote.WithPlatform(*plat)}, s.opts...)
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return nil, fmt.Errorf("image %s: reading from its registry: %w", image, err)
	}
	dkey := platform + " " + desc.Digest.String()
	s.mu.Lock()
	c, ok := s.byDigest[dkey]
	s.mu.Unlock()
	if !ok {
		img, err := desc.Image() // picks the platform's image from an index
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", image, err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("image %s: reading its config: %w", image, err)
		}
		c = &ImageConfig{Entrypoint: cf.Config.Entrypoint, Cmd: cf.Config.Cmd, Digest: desc.Digest.String(),
			Source: "registry " + ref.Context().RegistryStr() + " (" + desc.Digest.String() + ")"}
	}
	s.mu.Lock()
	s.byDigest[dkey] = c
	s.byRef[key] = c
	s.mu.Unlock()
	return c, nil
}

// plainHTTP reports whether the image's registry may be spoken to without TLS: loopback
// hosts always (a test or local registry), others only when named insecure.
func (s *RegistrySource) plainHTTP(image string) bool {
	host, _, _ := strings.Cut(image, "/")
	if !strings.Contains(image, "/") {
		return false
	}
	if s.insecure[host] {
		return true
	}
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(h, "[]"))
	return ip != nil && ip.IsLoopback()
}

// ECRAuthorizer is the ECR call the keychain needs, with the SDK's own signature.
type ECRAuthorizer interface {
	GetAuthorizationToken(ctx context.Context, in *ecr.GetAuthorizationTokenInput, optFns ...func(*ecr.Options)) (*ecr.GetAuthorizationTokenOutput, error)
}

var ecrHostRE = regexp.MustCompile(`^(\d{12})\.dkr\.ecr(-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$`)

// ecrKeychain answers credentials for ECR registries from GetAuthorizationToken.
type ecrKeychain struct {
	client ECRAuthorizer
	mu     sync.Mutex
	cache  map[string]authn.Authenticator
}

func (k *ecrKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	host := r.RegistryStr()
	m := ecrHostRE.FindStringSubmatch(host)
	if m == nil {
		return authn.Anonymous, nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if a, ok := k.cache[host]; ok {
		return a, nil
	}
	out, err := k.client.GetAuthorizationToken(context.Background(), &ecr.GetAuthorizationTokenInput{}, func(o *ecr.Options) { o.Region = m[3] })
	if err != nil {
		return nil, fmt.Errorf("ecr credentials for %s: %w", host, err)
	}
	if len(out.AuthorizationData) == 0 || out.AuthorizationData[0].AuthorizationToken == nil {
		return nil, fmt.Errorf("ecr credentials for %s: empty answer", host)
	}
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(out.AuthorizationData[0].AuthorizationToken))
	if err != nil {
		return nil, fmt.Errorf("ecr credentials for %s: bad token encoding", host)
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return nil, fmt.Errorf("ecr credentials for %s: bad token", host)
	}
	a := authn.FromConfig(authn.AuthConfig{Username: user, Password: pass})
	k.cache[host] = a
	return a, nil
}
