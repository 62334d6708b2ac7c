# syntax=docker/dockerfile:1
# OpenTelemetry collector for docker-compose: the upstream image (no shell)
# with its configuration and tia-health for the container health check.
# Build context: the repository root.
FROM golang:1.26-bookworm AS health
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
COPY . .
RUN --mount=type=cache,target=/root/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -ldflags="-s -w" -o /out/tia-health ./services/platform/cmd/tia-health

FROM otel/opentelemetry-collector-contrib:0.120.0
COPY deploy/compose/otel-collector.yaml /etc/otelcol-contrib/config.yaml
COPY --from=health /out/tia-health /usr/local/bin/tia-health
