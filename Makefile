# taskward developer and CI entry points. `make test` and `make demo` work on a fresh Debian
# machine with Go: they install what they need first (hack/install-deps.sh).
SHELL := /bin/bash
GO ?= go
GOFLAGS_TEST ?= -race -count=1 -timeout 25m
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/taskward/taskward/internal/version.Version=$(VERSION)
BIN := bin
# Images are published as $(REGISTRY)/taskward/{controller,defender}; release builds stamp
# the controller's default defender image as $(REGISTRY)/taskward/defender@sha256:...
REGISTRY ?= ghcr.io
IMAGE_REPO := $(REGISTRY)/taskward
PLATFORMS ?= linux/amd64,linux/arm64
DIST ?= dist
HELM ?= $(shell command -v helm 2>/dev/null || echo $$($(GO) env GOPATH)/bin/helm)
CHART := charts/taskward

.PHONY: all build deps test test-short verify demo bench fuzz clean images chart-check release release-check

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/...

# deps installs the system packages and Go tools the tests need (idempotent).
deps:
	bash hack/install-deps.sh

# test runs every test (the image and chart checks among them: hack/build-images,
# hack/deploycheck), then a release dry run.
test: deps
	$(GO) test $(GOFLAGS_TEST) ./...
	$(MAKE) release-check

test-short:
	$(GO) test -short -count=1 ./...

verify:
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || { echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	$(GO) mod tidy
	@git diff --exit-code -- go.mod go.sum || { echo "go.mod/go.sum not tidy"; exit 1; }
	@test -z "$$(git status --porcelain)" || { git status --porcelain; echo "tree is dirty"; exit 1; }

demo: build
	./hack/demo.sh

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# images builds the controller and defender images for $(PLATFORMS) into OCI layouts
# under $(DIST)/images, without a Docker engine (hack/build-images, go-containerregistry).
images:
	$(GO) run ./hack/build-images -out $(DIST)/images -version $(VERSION) -repo $(IMAGE_REPO) -platforms $(PLATFORMS)

# chart-check lints and renders the Helm chart with its defaults and each example in
# $(CHART)/ci (hack/deploycheck tests the rendered manifests).
chart-check: deps
	$(HELM) lint --strict $(CHART)
	$(HELM) template taskward $(CHART) >/dev/null
	for f in $(CHART)/ci/*.yaml; do $(HELM) lint --strict $(CHART) -f $$f && $(HELM) template taskward $(CHART) -f $$f >/dev/null || exit 1; done

# release builds what a release publishes into $(DIST)/release, pushing nothing (see
# hack/release.sh): binaries for $(PLATFORMS) with checksums and SBOMs (go version -m), the
# two images as OCI layouts (the controller's default defender image stamped with the
# digest of the defender index built in the same run), the packaged chart.
RELEASE_ENV = VERSION=$(VERSION) IMAGE_REPO=$(IMAGE_REPO) PLATFORMS=$(PLATFORMS) DIST=$(DIST) HELM=$(HELM) GO=$(GO)
release: deps
	$(RELEASE_ENV) bash hack/release.sh

release-check: release
	$(RELEASE_ENV) bash hack/release-check.sh

clean:
	rm -rf $(BIN) $(DIST)
