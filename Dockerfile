# syntax=docker/dockerfile:1
# taskward images, two targets sharing one build stage:
#   controller  `taskward controller` on distroless/static:nonroot (uid 65532, CA bundle, no shell)
#   defender    FROM scratch: /taskward-defender as ENTRYPOINT; the init container's rendered
#               command `install /taskward` copies it into the task volume (DESIGN.md decision 2)
#
#   docker buildx build --platform linux/amd64,linux/arm64 --target defender \
#       --build-arg VERSION=v1.2.3 -t REGISTRY/taskward/defender:v1.2.3 --push .
#   docker buildx build --platform linux/amd64,linux/arm64 --target controller \
#       --build-arg VERSION=v1.2.3 --build-arg DEFENDER_IMAGE=REGISTRY/taskward/defender@sha256:... \
#       -t REGISTRY/taskward/controller:v1.2.3 --push .
#
# CI has no Docker engine: hack/build-images builds the same two images with
# go-containerregistry (same files, entrypoints, users, -trimpath and -ldflags), and
# `make release` stamps the controller's default defender image with the digest of the
# defender index it just built, as DEFENDER_IMAGE does here.
#
# The controller image has no git binary. go-git needs one only for local paths and
# file:// URLs (it runs git-upload-pack); a deployed controller reads its repo over HTTPS
# or SSH, which are pure Go.
#
# Base images are pinned by digest. No registry can be reached from where this file was
# written, so the digests were not resolved against the registries: they were copied from
# public Dockerfiles that pin the same tags (golang:1.26: two projects, one using it with
# --platform=$BUILDPLATFORM for multi-arch builds; distroless/static-debian12:nonroot: the
# same digest in ten or more projects). Check them before a release and bump them in a
# reviewed commit:
#   crane digest golang:1.26 && crane digest gcr.io/distroless/static-debian12:nonroot
ARG GO_IMAGE=golang:1.26@sha256:3aff6657219a4d9c14e27fb1d8976c49c29fddb70ba835014f477e1c70636647
ARG BASE_IMAGE=gcr.io/distroless/static-debian12:nonroot@sha256:d093aa3e30dbadd3efe1310db061a14da60299baff8450a17fe0ccc514a16639

# Cross-compile on the build machine's platform: Go needs no emulation for CGO_ENABLED=0.
FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG TARGETOS=linux
ARG TARGETARCH
ARG VERSION=dev
ARG DEFENDER_IMAGE=
ENV CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} GOFLAGS=-buildvcs=false
RUN go build -trimpath \
      -ldflags "-s -w -X github.com/taskward/taskward/internal/version.Version=${VERSION}" \
      -o /out/taskward-defender ./cmd/taskward-defender
RUN go build -trimpath \
      -ldflags "-s -w -X github.com/taskward/taskward/internal/version.Version=${VERSION} ${DEFENDER_IMAGE:+-X github.com/taskward/taskward/internal/version.DefaultDefenderImage=${DEFENDER_IMAGE}}" \
      -o /out/taskward ./cmd/taskward

FROM scratch AS defender
ARG VERSION=dev
LABEL org.opencontainers.image.title=taskward-defender \
      org.opencontainers.image.version=${VERSION} \
      org.opencontainers.image.source=https://github.com/taskward/taskward
COPY --from=build --chmod=0755 /out/taskward-defender /taskward-defender
ENTRYPOINT ["/taskward-defender"]
CMD ["install", "/taskward"]

FROM ${BASE_IMAGE} AS controller
ARG VERSION=dev
LABEL org.opencontainers.image.title=taskward-controller \
      org.opencontainers.image.version=${VERSION} \
      org.opencontainers.image.source=https://github.com/taskward/taskward
COPY --from=build --chmod=0755 /out/taskward /taskward
USER 65532:65532
WORKDIR /home/nonroot
EXPOSE 8080
ENTRYPOINT ["/taskward", "controller"]
