module github.com/tia-platform/tia/services/embedded

go 1.26.7
