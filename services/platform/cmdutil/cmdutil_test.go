package cmdutil

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// runs are the commands the test binary plays when re-executed with
// CMDUTIL_TEST_RUN set.
var runs = map[string]func(ctx context.Context, args []string) error{
	"ok":   func(context.Context, []string) error { return nil },
	"fail": func(_ context.Context, args []string) error { return fmt.Errorf("failed with %v", args) },
	"help": func(context.Context, []string) error { return fmt.Errorf("parse: %w", flag.ErrHelp) },
	"signal": func(ctx context.Context, _ []string) error {
		fmt.Println("ready")
		<-ctx.Done()
		return errors.New("stopped by a signal")
	},
}

func TestMain(m *testing.M) {
	if name := os.Getenv("CMDUTIL_TEST_RUN"); name != "" {
		Main("tia-test", runs[name])
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestMainExit: the exit status and what the command says on failure; -h
// is no failure; SIGTERM cancels the context run was given.
func TestMainExit(t *testing.T) {
	for _, tc := range []struct {
		run, stderr string
		code        int
	}{
		{run: "ok", code: 0},
		{run: "fail", code: 1, stderr: "tia-test: failed with [-x y]\n"},
		{run: "help", code: 0},
		{run: "signal", code: 1, stderr: "tia-test: stopped by a signal\n"},
	} {
		t.Run(tc.run, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-x", "y")
			cmd.Env = append(os.Environ(), "CMDUTIL_TEST_RUN="+tc.run)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if tc.run == "signal" {
				if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "ready\n" {
					t.Fatalf("child said %q, want ready", line)
				}
				if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
					t.Fatal(err)
				}
			}
			err = cmd.Wait()
			code := 0
			if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.code || stderr.String() != tc.stderr {
				t.Errorf("exit %d, stderr %q; want %d, %q", code, stderr.String(), tc.code, tc.stderr)
			}
		})
	}
}
