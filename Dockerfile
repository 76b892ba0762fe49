# syntax=docker/dockerfile:1
# taskward images. Targets:
#   defender   the runtime defender: the init container runs `install /taskward`, which
#              copies /taskward-defender into the task volume (DESIGN.md decision 2).
# (a `controller` target will sit beside it, sharing the build stage.)

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/taskward/taskward/internal/version.Version=${VERSION}" \
      -o /out/taskward-defender ./cmd/taskward-defender

FROM scratch AS defender
COPY --from=build /out/taskward-defender /taskward-defender
ENTRYPOINT ["/taskward-defender"]
CMD ["install", "/taskward"]
