package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PostgresServer is a private PostgreSQL server for fault tests that stop
// or restart it: the shared server of the other tests stays untouched. Its
// data directory and unix socket live in a temporary folder of its own; it
// listens on a free loopback port and trusts local connections of the user
// postgres. PostgreSQL refuses to run as root, so when the test runs as root
// the server's programs run as the operating-system user postgres
// (runuser), which owns the folder.
type PostgresServer struct {
	dir  string // the temporary folder: data/, the socket, server.log
	bin  string // PostgreSQL's bin folder (initdb, pg_ctl)
	port string
	as   []string // the command prefix that runs a program as postgres

	mu sync.Mutex // one pg_ctl at a time
}

// StartPostgresServer creates a database cluster with initdb and starts it
// with pg_ctl, waiting until it accepts connections. The server's programs
// come from the newest /usr/lib/postgresql/*/bin (Debian's layout) or the
// folder of pg_ctl on PATH.
func StartPostgresServer(ctx context.Context) (_ *PostgresServer, err error) {
	bin, err := postgresBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "tia-postgres-")
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	s := &PostgresServer{dir: dir, bin: bin}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("cluster: PostgreSQL does not run as root and there is no user postgres to run it as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, fmt.Errorf("cluster: %w", err)
		}
		runuser, err := exec.LookPath("runuser")
		if err != nil {
			return nil, fmt.Errorf("cluster: running PostgreSQL as postgres: %w", err)
		}
		s.as = []string{runuser, "-u", "postgres", "--"}
	}
	if s.port, err = freePort(); err != nil {
		return nil, err
	}
	// Fast to create; the data survives a server crash (not an operating
	// system crash): fsync=off, but commits still wait for their WAL write,
	// so a restart with -m immediate loses no committed transaction.
	if out, err := s.run(ctx, "initdb", "-D", s.data(), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "--no-instructions"); err != nil {
		return nil, fmt.Errorf("cluster: initdb: %w\n%s", err, out)
	}
	if err := s.Start(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// postgresBin finds the folder of initdb and pg_ctl.
func postgresBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		// Numeric versions: 9.6 < 15 < 16.
		va, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(a)), 64)
		vb, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(b)), 64)
		switch {
		case va < vb:
			return -1
		case va > vb:
			return 1
		}
		return 0
	})
	for _, d := range slices.Backward(dirs) {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("cluster: no PostgreSQL server programs (initdb, pg_ctl) in /usr/lib/postgresql/*/bin or on PATH; install the postgresql package")
}

func (s *PostgresServer) data() string    { return filepath.Join(s.dir, "data") }
func (s *PostgresServer) logFile() string { return filepath.Join(s.dir, "server.log") }

// run runs one of the server's programs as the user that owns the data.
func (s *PostgresServer) run(ctx context.Context, program string, args ...string) ([]byte, error) {
	argv := append(append(append([]string(nil), s.as...), filepath.Join(s.bin, program)), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = s.dir
	// Only this server's settings: no PGDATA, PGPORT or PGHOST of the caller.
	cmd.Env = nil
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	return cmd.CombinedOutput()
}

// options are the server's settings, as pg_ctl -o passes them to postgres.
func (s *PostgresServer) options() string {
	return strings.Join([]string{
		"-p", s.port, "-k", s.dir, "-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "full_page_writes=off", "-c", "max_connections=200",
	}, " ")
}

// pgCtl runs pg_ctl with a verb and waits for it to finish its work.
func (s *PostgresServer) pgCtl(ctx context.Context, args ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	args = append([]string{"-D", s.data(), "-l", s.logFile(), "-w", "-t", "60"}, args...)
	if out, err := s.run(ctx, "pg_ctl", args...); err != nil {
		return fmt.Errorf("cluster: pg_ctl %s: %w\n%s\nserver log:\n%s", strings.Join(args, " "), err, out, s.LogTail())
	}
	return nil
}

// DSN is the DSN of the server's database postgres, for NewDatabases.
func (s *PostgresServer) DSN() string {
	u := url.URL{Scheme: "postgres", User: url.User("postgres"), Host: net.JoinHostPort("127.0.0.1", s.port), Path: "/postgres", RawQuery: "sslmode=disable"}
	return u.String()
}

// Port is the server's loopback port.
func (s *PostgresServer) Port() string { return s.port }

// Start starts the stopped server and waits until it accepts connections.
func (s *PostgresServer) Start(ctx context.Context) error {
	return s.pgCtl(ctx, "-o", s.options(), "start")
}

// Stop stops the server with a pg_ctl shutdown mode: "smart", "fast" (ends
// the sessions, rolls back their transactions, writes a checkpoint) or
// "immediate" (ends every process at once, as a crash would; the next start
// recovers from the WAL).
func (s *PostgresServer) Stop(ctx context.Context, mode string) error {
	return s.pgCtl(ctx, "-m", mode, "stop")
}

// Restart stops the server with a shutdown mode (see Stop) and starts it
// again, waiting until it accepts connections.
func (s *PostgresServer) Restart(ctx context.Context, mode string) error {
	return s.pgCtl(ctx, "-m", mode, "-o", s.options(), "restart")
}

// LogTail is the end of the server's log.
func (s *PostgresServer) LogTail() string {
	b, err := os.ReadFile(s.logFile())
	if err != nil {
		return ""
	}
	if len(b) > tailSize {
		b = b[len(b)-tailSize:]
	}
	return string(b)
}

// Close stops the server at once, if it runs, and removes its folder.
func (s *PostgresServer) Close() {
	if _, err := os.Stat(filepath.Join(s.data(), "postmaster.pid")); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_ = s.Stop(ctx, "immediate")
		cancel()
	}
	_ = os.RemoveAll(s.dir)
}
