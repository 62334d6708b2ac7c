module github.com/tia-platform/tia/services/notification

go 1.26.7
