module github.com/tia-platform/tia/services/activity

go 1.26.7
