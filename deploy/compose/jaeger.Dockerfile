# syntax=docker/dockerfile:1
# Jaeger (v2) as the trace viewer for docker-compose: the collector exports
# to it over OTLP; its UI is on port 16686. tia-health is added for the
# container health check. Build context: the repository root.
FROM golang:1.26-bookworm AS health
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
COPY . .
RUN --mount=type=cache,target=/root/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -ldflags="-s -w" -o /out/tia-health ./services/platform/cmd/tia-health

FROM jaegertracing/jaeger:2.3.0
COPY --from=health /out/tia-health /usr/local/bin/tia-health
