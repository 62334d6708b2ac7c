module github.com/tia-platform/tia/services/travel

go 1.26.7

replace github.com/tia-platform/tia/proto => ../../proto

replace github.com/tia-platform/tia/services/platform => ../platform
