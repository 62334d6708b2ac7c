// Command tia-bench measures the REST edge (`make bench`): requests per
// second and latency of GET /v1/organisers/{org}/activities/{id}, through
// the embedded default and through the production path (separate binaries,
// PostgreSQL, NATS), each next to a hand-written net/http + encoding/json
// handler that reads the same row from the same database in the same run.
//
// It prints one figure per line:
//
//	BENCH <name> <value> <unit>
//	BENCH <name> ratio <value> vs <baseline>
//
// The load is bounded and local: a fixed number of workers on loopback, each
// sending one request after another for a fixed time after a short warm-up,
// through one shared http.Client. The time is split into rounds that
// alternate between a target and its baseline, so the machine's other load
// weighs on both alike. Every latency is recorded. The GET is
// anonymous (the method is public), as asylum seekers looking for an activity
// call it.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tia-platform/tia/services/embedded"
	"github.com/tia-platform/tia/services/embedded/cluster"
	"github.com/tia-platform/tia/services/embedded/internal/loopback"
	"github.com/tia-platform/tia/services/platform/cmdutil"
	"github.com/tia-platform/tia/services/platform/db"
	"github.com/tia-platform/tia/services/platform/logging"
	"github.com/tia-platform/tia/services/platform/telemetry"
)

func main() {
	cmdutil.Main("tia-bench", func(ctx context.Context, args []string) error { return run(ctx, args, os.Stdout) })
}

type config struct {
	duration       time.Duration
	warmup         time.Duration
	workers        int
	rounds         int
	skipProduction bool
	postgresDSN    string
	natsURL        string
	profileDir     string
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("tia-bench", flag.ContinueOnError)
	var cfg config
	fs.DurationVar(&cfg.duration, "duration", 5*time.Second, "how long each target is measured, in total over the rounds")
	fs.DurationVar(&cfg.warmup, "warmup", time.Second, "how long each target is loaded before it is measured")
	fs.IntVar(&cfg.workers, "workers", 16, "concurrent workers, each with one request in flight")
	fs.IntVar(&cfg.rounds, "rounds", 5, "the duration is split into this many rounds, alternating between a target and its baseline")
	fs.BoolVar(&cfg.skipProduction, "skip-production", false, "measure only the embedded default (no PostgreSQL or NATS needed)")
	fs.StringVar(&cfg.postgresDSN, "postgres-dsn", envOr("TIA_TEST_POSTGRES_DSN", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"),
		"PostgreSQL server for the production path; its database is only used to create and drop the services' databases")
	fs.StringVar(&cfg.profileDir, "profile-dir", "", "after each measurement, load the REST edge alone once more for -duration and write its CPU and allocation profiles into this folder")
	fs.StringVar(&cfg.natsURL, "nats-url", envOr("TIA_TEST_NATS_URL", "nats://127.0.0.1:4222"), "NATS JetStream server for the production path")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.workers < 1 || cfg.rounds < 1 || cfg.duration <= 0 || cfg.warmup < 0 {
		return errors.New("-workers and -rounds must be at least 1, -duration positive and -warmup not negative")
	}

	// As `make run` does: the embedded default records spans with the SDK.
	tel, err := telemetry.Setup(ctx, "tia-bench")
	if err != nil {
		return err
	}
	defer func() { _ = tel.Shutdown(context.Background()) }()

	tmp, err := os.MkdirTemp("", "tia-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	client := &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConns:        4 * cfg.workers,
			MaxIdleConnsPerHost: 2 * cfg.workers,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
	}
	b := &bench{cfg: cfg, client: client, out: out}

	if err := b.embedded(ctx, filepath.Join(tmp, "data")); err != nil {
		return fmt.Errorf("embedded: %w", err)
	}
	if cfg.skipProduction {
		return nil
	}
	if err := b.production(ctx, tmp); err != nil {
		return fmt.Errorf("production: %w", err)
	}
	return nil
}

type bench struct {
	cfg    config
	client *http.Client
	out    io.Writer
}

// embedded measures the one-process default on its SQLite file.
func (b *bench) embedded(ctx context.Context, dataDir string) error {
	p, err := embedded.Start(ctx, embedded.Options{
		DataDir: dataDir, HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0",
		Logger: logging.New(os.Stderr, "tia", slog.LevelWarn),
	})
	if err != nil {
		return err
	}
	defer p.Close()
	base := "http://" + p.HTTPAddr
	tok, err := p.Token(embedded.DemoStudyAssociation)
	if err != nil {
		return err
	}
	name, err := b.createActivity(ctx, base, tok)
	if err != nil {
		return err
	}

	return b.compareWithBaseline(ctx, "get_activity_embedded", "sqlite:"+filepath.Join(dataDir, "activity.db"), base, name, true)
}

// production measures the separate binaries on PostgreSQL and NATS.
func (b *bench) production(ctx context.Context, tmp string) (err error) {
	bin := filepath.Join(tmp, "bin")
	if err := cluster.Build(ctx, bin); err != nil {
		return err
	}
	dbs, err := cluster.NewDatabases(ctx, b.cfg.postgresDSN)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := dbs.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	var activityDSN string
	c, err := cluster.Start(ctx, cluster.Options{
		BinDir: bin,
		PostgresDSN: func(service string) (string, error) {
			dsn, err := dbs.DSN(service)
			if service == "activity" {
				activityDSN = dsn
			}
			return dsn, err
		},
		NATSURL: b.cfg.natsURL,
		Prefix:  "bench" + randomHex(6) + "_",
	})
	if err != nil {
		return err
	}
	defer c.Stop()
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w\nlast process output:\n%s", err, c.LogTail())
		}
	}()
	tok, err := c.Token(embedded.DemoStudyAssociation)
	if err != nil {
		return err
	}
	name, err := b.createActivity(ctx, c.HTTPBase(), tok)
	if err != nil {
		return err
	}

	return b.compareWithBaseline(ctx, "get_activity_production", activityDSN, c.HTTPBase(), name, false)
}

// compareWithBaseline compares GET of the activity name through the edge at
// base with the baseline server reading the activity database at dsn.
func (b *bench) compareWithBaseline(ctx context.Context, metric, dsn, base, name string, inProcess bool) error {
	d, err := db.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer d.Close()
	baseline, stop, err := serveBaseline(d.DB, d.Rebind(selectActivity))
	if err != nil {
		return err
	}
	defer stop()
	return b.compare(ctx, metric, base+"/v1/"+name, baseline+"/v1/"+name, inProcess)
}

// compare checks that both URLs answer alike, then measures the target and
// its hand-written baseline and prints the figures. The measurement
// alternates between the two in rounds, so a change in the machine's other
// load during the run affects both alike. When both are served in this
// process (inProcess), it also prints the CPU time this process spent per
// request (server and load generator alike), a figure that other jobs on
// the machine disturb much less than the request rate.
func (b *bench) compare(ctx context.Context, name, target, baseline string, inProcess bool) error {
	if err := b.sameJSON(ctx, target, baseline); err != nil {
		return err
	}
	if b.cfg.warmup > 0 {
		for _, url := range []string{target, baseline} {
			if _, err := load(ctx, b.client, url, b.cfg.workers, b.cfg.warmup); err != nil {
				return fmt.Errorf("%s: warm-up: %w", name, err)
			}
		}
	}
	var t, base result
	slice := b.cfg.duration / time.Duration(b.cfg.rounds)
	for range b.cfg.rounds {
		r, err := load(ctx, b.client, target, b.cfg.workers, slice)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		t.add(r)
		r, err = load(ctx, b.client, baseline, b.cfg.workers, slice)
		if err != nil {
			return fmt.Errorf("%s_nethttp: %w", name, err)
		}
		base.add(r)
	}
	b.report(name, t)
	b.report(name+"_nethttp", base)
	fmt.Fprintf(b.out, "BENCH %s ratio %.2f vs %s\n", name, t.rps()/base.rps(), name+"_nethttp")
	fmt.Fprintf(b.out, "BENCH %s_p99 ratio %.2f vs %s_p99\n", name, ms(t.percentile(99))/ms(base.percentile(99)), name+"_nethttp")
	if inProcess {
		fmt.Fprintf(b.out, "BENCH %s_cpu %.0f µs/req\n", name, t.cpuPerRequest())
		fmt.Fprintf(b.out, "BENCH %s_nethttp_cpu %.0f µs/req\n", name, base.cpuPerRequest())
		fmt.Fprintf(b.out, "BENCH %s_cpu ratio %.2f vs %s_nethttp_cpu\n", name, t.cpuPerRequest()/base.cpuPerRequest(), name)
		fmt.Fprintf(b.out, "BENCH %s_alloc %.1f KB/req\n", name, t.allocPerRequest()/1024)
		fmt.Fprintf(b.out, "BENCH %s_nethttp_alloc %.1f KB/req\n", name, base.allocPerRequest()/1024)
	}
	if b.cfg.profileDir == "" {
		return nil
	}
	return profile(b.cfg.profileDir, name, func() error {
		_, err := load(ctx, b.client, target, b.cfg.workers, b.cfg.duration)
		return err
	})
}

// profile runs f with the CPU profiler on and writes, into dir,
// <name>.cpu.pprof and <name>.allocs.pprof with <name>.allocs-base.pprof,
// the allocations before f: `go tool pprof -base <name>.allocs-base.pprof
// <name>.allocs.pprof` shows what f allocated. The profiles are of this
// process: the in-process edge with the load generator beside it (its
// frames are under main.load), not the separate binaries of the
// production path.
func profile(dir, name string, f func() error) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	write := func(file, kind string) error {
		out, err := os.Create(filepath.Join(dir, file))
		if err != nil {
			return err
		}
		runtime.GC() // the allocation profile is as of the last collection
		if err := pprof.Lookup(kind).WriteTo(out, 0); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	}
	if err := write(name+".allocs-base.pprof", "allocs"); err != nil {
		return err
	}
	cpu, err := os.Create(filepath.Join(dir, name+".cpu.pprof"))
	if err != nil {
		return err
	}
	defer cpu.Close()
	if err := pprof.StartCPUProfile(cpu); err != nil {
		return err
	}
	err = f()
	pprof.StopCPUProfile()
	if err != nil {
		return fmt.Errorf("%s: profile: %w", name, err)
	}
	if err := write(name+".allocs.pprof", "allocs"); err != nil {
		return err
	}
	return cpu.Close()
}

func (b *bench) report(name string, r result) {
	fmt.Fprintf(b.out, "BENCH %s %.0f req/s\n", name, r.rps())
	fmt.Fprintf(b.out, "BENCH %s_p50 %.2f ms\n", name, ms(r.percentile(50)))
	fmt.Fprintf(b.out, "BENCH %s_p99 %.2f ms\n", name, ms(r.percentile(99)))
}

// result is one measurement: every latency, the wall time and the CPU time
// of this process.
type result struct {
	latencies []time.Duration // sorted
	elapsed   time.Duration
	cpu       time.Duration
	alloc     uint64 // bytes allocated by this process
}

// add merges another measurement of the same target into r.
func (r *result) add(o result) {
	r.latencies = append(r.latencies, o.latencies...)
	slices.Sort(r.latencies)
	r.elapsed += o.elapsed
	r.cpu += o.cpu
	r.alloc += o.alloc
}

// allocPerRequest is the bytes this process allocated per request.
func (r result) allocPerRequest() float64 { return float64(r.alloc) / float64(len(r.latencies)) }

func allocated() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// cpuPerRequest is this process's CPU time per request, in µs.
func (r result) cpuPerRequest() float64 {
	return float64(r.cpu.Microseconds()) / float64(len(r.latencies))
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (r result) rps() float64 { return float64(len(r.latencies)) / r.elapsed.Seconds() }

// percentile is the nearest-rank percentile of the latencies.
func (r result) percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(float64(len(r.latencies))*p/100+0.5) - 1
	return r.latencies[min(max(i, 0), len(r.latencies)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// load runs workers that each GET url in a loop until duration has passed,
// and waits for the requests in flight.
func load(ctx context.Context, client *http.Client, url string, workers int, duration time.Duration) (result, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	per := make([][]time.Duration, workers)
	var wg sync.WaitGroup
	cpu0, alloc0 := cpuTime(), allocated()
	start := time.Now()
	deadline := start.Add(duration)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 1<<14)
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(deadline) {
					break
				}
				if err := get(ctx, client, url); err != nil {
					cancel(err)
					return
				}
				lat = append(lat, time.Since(t0))
			}
			per[w] = lat
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu, alloc := cpuTime()-cpu0, allocated()-alloc0
	if err := context.Cause(ctx); err != nil {
		return result{}, err
	}
	var all []time.Duration
	for _, lat := range per {
		all = append(all, lat...)
	}
	slices.Sort(all)
	return result{latencies: all, elapsed: elapsed, cpu: cpu, alloc: alloc}, nil
}

func get(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	return err
}

// createActivity registers the demo study association and one activity of
// it through the REST edge, and returns the activity's resource name.
func (b *bench) createActivity(ctx context.Context, base, token string) (string, error) {
	org := embedded.DemoStudyAssociation.Org
	if _, err := b.post(ctx, base+"/v1/organisers", token, map[string]any{
		"orgNumber": org, "displayName": "Studieförbundet Demo", "kind": "ORGANISER_KIND_STUDY_ASSOCIATION",
		"contacts": []map[string]any{
			{"role": "CONTACT_ROLE_REGIONAL", "displayName": "Regional kontakt", "email": "tia@example.se", "lanCodes": []string{"01"}},
		},
	}); err != nil {
		return "", fmt.Errorf("register organiser: %w", err)
	}
	today := time.Now()
	created, err := b.post(ctx, base+"/v1/organisers/"+org+"/activities", token, map[string]any{
		"title": "Svenska för nybörjare", "kommunCode": "0180", "focus": []string{"FOCUS_SWEDISH", "FOCUS_SOCIETY"},
		"capacity": 20, "startDate": today.AddDate(0, 0, -10).Format(time.DateOnly), "endDate": today.AddDate(0, 3, 0).Format(time.DateOnly),
	})
	if err != nil {
		return "", fmt.Errorf("create activity: %w", err)
	}
	name, _ := created["name"].(string)
	if name == "" {
		return "", fmt.Errorf("create activity: unexpected answer %v", created)
	}
	return name, nil
}

// post sends body as JSON with a bearer token and decodes the 200 answer.
func (b *bench) post(ctx context.Context, url, token string, body any) (map[string]any, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d %s", resp.StatusCode, raw)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("answer is not JSON: %s", raw)
	}
	return out, nil
}

// sameJSON checks that the baseline answers with the same core fields as
// the edge. (The baseline writes every other column of the row too, under
// its column's name; the edge maps some of them to enums.)
func (b *bench) sameJSON(ctx context.Context, target, baseline string) error {
	fetch := func(url string) (map[string]any, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		resp, err := b.client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: HTTP %d %s", url, resp.StatusCode, raw)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("GET %s: %w", url, err)
		}
		return m, nil
	}
	want, err := fetch(target)
	if err != nil {
		return err
	}
	got, err := fetch(baseline)
	if err != nil {
		return err
	}
	for _, k := range []string{"name", "title", "kommunCode", "lanCode", "focus", "capacity", "startDate", "endDate", "status"} {
		if fmt.Sprint(got[k]) != fmt.Sprint(want[k]) {
			return fmt.Errorf("the baseline answers %s = %v, the edge %v", k, got[k], want[k])
		}
	}
	for _, k := range []string{"createTime", "updateTime"} {
		if _, ok := got[k]; !ok {
			return fmt.Errorf("the baseline answers no %s", k)
		}
	}
	return nil
}

// The hand-written baseline: one query, encoding/json. It reads the whole
// row (SELECT *, so it keeps working as the table gains columns) and writes
// each column under its name in camelCase, leaving out empty ones as
// protojson leaves out default values; the resource name, the focus list
// and the status are built as the service builds them.

const selectActivity = "SELECT * FROM activities WHERE org_number = ? AND id = ?"

// serveBaseline serves GET /v1/organisers/{org}/activities/{id} from d with
// query (already in d's placeholder style) on a loopback port.
func serveBaseline(d *sql.DB, query string) (base string, stop func(), err error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/organisers/{org}/activities/{id}", func(w http.ResponseWriter, r *http.Request) {
		a, err := readActivity(r.Context(), d, query, r.PathValue("org"), r.PathValue("id"))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"code":5,"message":"not found"}`)
			return
		case err != nil:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"code":13,"message":"internal error"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(a)
	})
	return loopback.Serve(mux)
}

func readActivity(ctx context.Context, d *sql.DB, query, org, id string) (map[string]any, error) {
	rows, err := d.QueryContext(ctx, query, org, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return nil, sql.ErrNoRows
	}
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	a := make(map[string]any, len(cols)+2)
	for i, col := range cols {
		v := vals[i]
		if b, ok := v.([]byte); ok {
			v = string(b)
		}
		switch col {
		case "org_number", "id":
			continue
		case "focus":
			var focus []string
			for _, f := range strings.Split(fmt.Sprint(v), ",") {
				focus = append(focus, "FOCUS_"+strings.ToUpper(f))
			}
			v = focus
		}
		if v == nil || v == "" {
			continue
		}
		a[camel(col)] = v
	}
	a["name"] = "organisers/" + org + "/activities/" + id
	start, _ := a["startDate"].(string)
	end, _ := a["endDate"].(string)
	switch today := time.Now().Format(time.DateOnly); {
	case today < start:
		a["status"] = "ACTIVITY_STATUS_PLANNED"
	case today > end:
		a["status"] = "ACTIVITY_STATUS_ENDED"
	default:
		a["status"] = "ACTIVITY_STATUS_ONGOING"
	}
	return a, rows.Close()
}

// camel turns a column name into a JSON field name: kommun_code → kommunCode.
func camel(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails; see crypto/rand.Read
	return hex.EncodeToString(b)
}
