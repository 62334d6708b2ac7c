# syntax=docker/dockerfile:1
# NATS with JetStream for docker-compose: the upstream image with its
# configuration. Build context: the repository root.
FROM nats:2.10-alpine
COPY deploy/compose/nats.conf /etc/nats/tia.conf
CMD ["nats-server", "--config", "/etc/nats/tia.conf"]
