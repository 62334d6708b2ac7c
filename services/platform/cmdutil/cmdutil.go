// Package cmdutil is what the platform's commands share around their run
// function.
package cmdutil

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Main calls run with the command's arguments and a context that SIGTERM
// or SIGINT cancels, so run can drain and return, and exits with status 1,
// printing "name: error", when run fails. -h, which printed the flags, is
// not a failure.
func Main(name string, run func(ctx context.Context, args []string) error) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}
