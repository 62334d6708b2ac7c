module github.com/tia-platform/tia/services/travel

go 1.26.7
