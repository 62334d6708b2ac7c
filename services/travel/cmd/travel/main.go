// Command travel runs the travel service as its own process: the production path,
// configured by TIA_* environment variables (see deploy/README.md).
package main

import (
	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/travel"
)

// The travel service asks the activity registry about certificates
// (TIA_ACTIVITY_ADDR).
func main() { app.Main(travel.Component, "activity") }
