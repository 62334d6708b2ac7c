// Command statistics runs the statistics service as its own process: the production path,
// configured by TIA_* environment variables (see deploy/README.md).
package main

import (
	"github.com/tia-platform/tia/services/platform/app"
	"github.com/tia-platform/tia/services/statistics"
)

func main() { app.Main(statistics.Component) }
