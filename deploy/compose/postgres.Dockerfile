# syntax=docker/dockerfile:1
# PostgreSQL for docker-compose: the upstream image with the script that
# creates one database (and owner) per service on first start.
# Build context: the repository root.
FROM postgres:17-alpine
COPY deploy/compose/postgres-init.sql /docker-entrypoint-initdb.d/10-tia.sql
