# syntax=docker/dockerfile:1
#
# The Workable GraphQL gateway as a static binary on distroless.
#
#   docker build --build-arg VERSION=v1.4.0 -t workable-graphql-gateway .
#   docker run --rm -p 8080:8080 -e GATEWAY_ENV=development workable-graphql-gateway   # demo mode
#   docker compose up --build                                      # with Redis
#
# The image runs with GATEWAY_ENV=production: without WORKABLE_SUBDOMAIN,
# WORKABLE_API_TOKEN and GATEWAY_API_KEYS it refuses to start.
#
# Every setting is an environment variable; see the settings table in the
# README (and compose.yaml for the list).

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Modules first, so that editing code does not invalidate the download layer.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# The version `gateway version`, the log and workable_gateway_build_info
# report; without it the binary reports "devel" (.git stays out of the build
# context, so no VCS revision is recorded either: pass the release tag).
ARG VERSION=
# The exact command CI checks locally: a static, reproducible binary.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/gateway .

# static-debian12 has CA certificates (for https://<subdomain>.workable.com
# and an https OTLP endpoint), tzdata and a nonroot user, and no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/gateway /gateway
USER nonroot:nonroot
# HOST: every interface of the container, for the port mapping (demo mode
# would otherwise listen on the container's loopback only).
# The binary tunes the garbage collector itself (gc.go): GOGC=400 unless
# GOGC is set, and unless GOMEMLIMIT is set a soft memory limit of twice
# what its in-process caches may hold plus 128 MiB (320 MiB with the
# defaults), at most 3/4 of the container's memory limit. Set either here
# or with -e to override.
ENV PORT=8080 \
    HOST=0.0.0.0 \
    GATEWAY_ENV=production
EXPOSE 8080
# Docker's health status: distroless has no shell or curl, so the binary
# checks itself (`gateway healthcheck` GETs http://127.0.0.1:$PORT/healthz
# and exits 0 on 200, else 1). Kubernetes probes GET /healthz (liveness) and
# GET /readyz (readiness, checks Redis) directly and ignores this.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 CMD ["/gateway", "healthcheck"]
ENTRYPOINT ["/gateway"]
