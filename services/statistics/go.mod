module github.com/tia-platform/tia/services/statistics

go 1.26.7
