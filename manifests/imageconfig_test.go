package manifests

import (
	"context"
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/taskward/taskward/internal/ojson"
)

func TestRegistryLookupOnlyWhenNeededAndCached(t *testing.T) {
	reg := newTestRegistry(t)
	img := reg.push(t, "svc:1", []string{"/entry"}, []string{"run"})
	reg.manifests.Store(0) // the push itself asks for the manifest
	src := NewRegistrySource()
	r := NewRenderer(DefaultConfig(), nil, WithImageSource(src))
	render := func(container string) *Rendered {
		t.Helper()
		td, probs := ParseTaskDef("t.json", []byte(fmt.Sprintf(`{"family":"f","memory":"512","containerDefinitions":[%s]}`, container)))
		if td == nil {
			t.Fatal(probs)
		}
		rd, probs := r.Render(context.Background(), td)
		if rd == nil {
			t.Fatal(probs)
		}
		return rd
	}
	// entryPoint set: the image's config is not needed, so the registry is not asked.
	render(fmt.Sprintf(`{"name":"a","image":%q,"entryPoint":["/x"]}`, img))
	if n := reg.manifests.Load(); n != 0 {
		t.Fatalf("entryPoint set, yet %d manifest requests", n)
	}
	// 100 renders of the same image: one lookup.
	for range 100 {
		rd := render(fmt.Sprintf(`{"name":"a","image":%q}`, img))
		if got, _ := rd.Doc.Get("containerDefinitions").Arr[0].Get("command").Strings(); fmt.Sprint(got) != "[/entry run]" {
			t.Fatalf("argv %v", got)
		}
		if rd.Containers[0].ArgvSource == "" || rd.Containers[0].ArgvSource[:8] != "registry" {
			t.Fatalf("argv source %q", rd.Containers[0].ArgvSource)
		}
	}
	if n := reg.manifests.Load(); n != 1 {
		t.Fatalf("%d manifest requests for one image, want 1 (cached)", n)
	}
}

func TestPlainHTTPOnlyForLoopbackOrNamed(t *testing.T) {
	s := NewRegistrySource(WithInsecureRegistries("registry.internal:5000"))
	for img, want := range map[string]bool{
		"127.0.0.1:5000/a":          true,
		"localhost:5000/a":          true,
		"[::1]:5000/a":              true,
		"registry.internal:5000/a":  true,
		"registry.internal/a":       false,
		"docker.io/library/alpine":  false,
		"alpine":                    false,
		"evil.com/127.0.0.1:5000/a": false,
	} {
		if got := s.plainHTTP(img); got != want {
			t.Errorf("plainHTTP(%s) = %v, want %v", img, got, want)
		}
	}
}

// fakeECR answers GetAuthorizationToken as ECR documents it: a base64 "AWS:<password>"
// token per request. ECR cannot run here; this is the one call taskward makes to it.
type fakeECR struct{ calls int }

func (f *fakeECR) GetAuthorizationToken(ctx context.Context, in *ecr.GetAuthorizationTokenInput, _ ...func(*ecr.Options)) (*ecr.GetAuthorizationTokenOutput, error) {
	f.calls++
	tok := base64.StdEncoding.EncodeToString([]byte("AWS:secret-password"))
	return &ecr.GetAuthorizationTokenOutput{AuthorizationData: []ecrtypes.AuthorizationData{{AuthorizationToken: aws.String(tok), ProxyEndpoint: aws.String("https://123456789012.dkr.ecr.us-east-1.amazonaws.com")}}}, nil
}

func TestECRKeychain(t *testing.T) {
	f := &fakeECR{}
	k := &ecrKeychain{client: f, cache: map[string]authn.Authenticator{}}
	reg, _ := name.NewRegistry("123456789012.dkr.ecr.us-east-1.amazonaws.com")
	for range 3 {
		a, err := k.Resolve(reg)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := a.Authorization()
		if err != nil || cfg.Username != "AWS" || cfg.Password != "secret-password" {
			t.Fatalf("auth %+v, %v", cfg, err)
		}
	}
	if f.calls != 1 {
		t.Fatalf("%d token requests, want 1 (cached)", f.calls)
	}
	other, _ := name.NewRegistry("docker.io")
	if a, _ := k.Resolve(other); a != authn.Anonymous {
		t.Fatal("non-ECR registry must not get ECR credentials")
	}
}

func BenchmarkRender1000(b *testing.B) {
	reg := newTestRegistry(b)
	img := reg.push(b, "svc:1", []string{"/entry"}, []string{"run"})
	r := NewRenderer(DefaultConfig(), nil, WithImageSource(NewRegistrySource()))
	var tasks []*TaskDef
	for i := range 1000 {
		src := fmt.Sprintf(`{"family":"f%d","networkMode":"awsvpc","cpu":"256","memory":"512","containerDefinitions":[{"name":"app","image":%q,"environment":[{"name":"A","value":"b"}],"portMappings":[{"containerPort":80}]},{"name":"side","image":%q,"command":["x"]}]}`, i, img, img)
		td, probs := ParseTaskDef("t.json", []byte(src))
		if td == nil {
			b.Fatal(probs)
		}
		tasks = append(tasks, td)
	}
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		out, probs := r.RenderAll(ctx, tasks)
		if out == nil {
			b.Fatal(probs)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(tasks)), "ns/task")
	_ = ojson.NewNull()
}
