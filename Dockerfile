# syntax=docker/dockerfile:1
# Images of the TIA binaries, one target each: the services activity,
# statistics, travel and notification, and the REST edge gateway. Build from
# the repository root:
#   docker build --target activity -t tia-activity .
# The build context is the whole Go workspace (go.work); .dockerignore keeps
# local state out of it.

FROM golang:1.26-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
# The module and build caches are BuildKit cache mounts. One stage builds all
# five binaries, so the five images' builds share it (BuildKit builds it once).
COPY . .
# tia_build_info{version,commit}: docker build --build-arg VERSION=1.4.0 --build-arg COMMIT=$(git rev-parse HEAD)
ARG VERSION=dev
ARG COMMIT=unknown
# Static binaries (no cgo: SQLite is pure Go) and the health check that the
# final images, which have no shell, run.
RUN --mount=type=cache,target=/root/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -ldflags="-s -w -X github.com/tia-platform/tia/services/platform/telemetry.Version=${VERSION} -X github.com/tia-platform/tia/services/platform/telemetry.Commit=${COMMIT}" -o /out/ \
        ./services/activity/cmd/activity \
        ./services/statistics/cmd/statistics \
        ./services/travel/cmd/travel \
        ./services/notification/cmd/notification \
        ./gateway/cmd/gateway && \
    go build -ldflags="-s -w" -o /out/tia-health ./services/platform/cmd/tia-health

# distroless/static: CA certificates and tzdata, no shell, no package manager;
# the nonroot tag runs as uid/gid 65532. Each image holds its own binary and
# tia-health.
FROM gcr.io/distroless/static-debian12:nonroot AS base
COPY --from=build /out/tia-health /usr/local/bin/
USER 65532:65532

# A service listens for gRPC on 9090, health on 9091, metrics on 9464.
FROM base AS service
EXPOSE 9090 9091 9464

FROM service AS activity
COPY --from=build /out/activity /usr/local/bin/
ENTRYPOINT ["/usr/local/bin/activity"]

FROM service AS statistics
COPY --from=build /out/statistics /usr/local/bin/
ENTRYPOINT ["/usr/local/bin/statistics"]

FROM service AS travel
COPY --from=build /out/travel /usr/local/bin/
ENTRYPOINT ["/usr/local/bin/travel"]

FROM service AS notification
COPY --from=build /out/notification /usr/local/bin/
ENTRYPOINT ["/usr/local/bin/notification"]

# The REST edge listens for HTTP on 8080, metrics on 9464.
FROM base AS gateway
COPY --from=build /out/gateway /usr/local/bin/
EXPOSE 8080 9464
ENTRYPOINT ["/usr/local/bin/gateway"]
