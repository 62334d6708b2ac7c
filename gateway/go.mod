module github.com/tia-platform/tia/gateway

go 1.26.7
