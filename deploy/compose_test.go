package deploy

import (
	"context"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// loadCompose parses docker-compose.yaml as `docker compose` would, with
// schema validation, interpolation and normalization.
func loadCompose(t *testing.T) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{"docker-compose.yaml"},
		cli.WithWorkingDirectory("."),
		cli.WithEnv([]string{}), // no developer environment leaks in
		cli.WithResolvedPaths(true),
		cli.WithConsistency(true),
	)
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yaml: %v", err)
	}
	return p
}

func TestComposeServices(t *testing.T) {
	p := loadCompose(t)
	want := append([]string{"postgres", "nats", "otel-collector", "jaeger", gateway}, services...)
	got := p.ServiceNames()
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("services = %v, want %v", got, want)
	}
}

func TestComposeEveryServiceHasAHealthCheck(t *testing.T) {
	p := loadCompose(t)
	for name, s := range p.Services {
		hc := s.HealthCheck
		if hc == nil || hc.Disable || len(hc.Test) < 2 || (hc.Test[0] != "CMD" && hc.Test[0] != "CMD-SHELL") {
			t.Errorf("%s: no health check", name)
			continue
		}
		if hc.Interval == nil || hc.Retries == nil {
			t.Errorf("%s: health check without interval or retries", name)
		}
	}
}

func TestComposeEveryImageIsBuiltFromThisRepository(t *testing.T) {
	p := loadCompose(t)
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range p.Services {
		if s.Build == nil {
			t.Errorf("%s: image %q is not built here", name, s.Image)
			continue
		}
		if s.Build.Context != root {
			t.Errorf("%s: build context %s, want the repository root %s", name, s.Build.Context, root)
		}
		text, err := readDockerfile(s.Build)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		// Upstream bases are pinned to a version, never "latest"; a base
		// that names an earlier stage is no upstream image.
		stages := dockerStages(text)
		for _, m := range regexp.MustCompile(`(?m)^FROM\s+(\S+)`).FindAllStringSubmatch(text, -1) {
			img := m[1]
			if _, stage := stages[img]; stage {
				continue
			}
			if !strings.Contains(img, ":") || strings.HasSuffix(img, ":latest") {
				t.Errorf("%s: base image %s is not pinned", name, img)
			}
		}
	}
	// The TIA binaries' images are built from the repository's Dockerfile,
	// each from the target named after the binary, which holds that binary.
	for _, b := range append(append([]string(nil), services...), gateway) {
		s := p.Services[b]
		if s.Build == nil {
			continue
		}
		want := filepath.Join(root, dockerfile)
		if got := filepath.Join(s.Build.Context, s.Build.Dockerfile); !filepath.IsAbs(s.Build.Dockerfile) && got != want || filepath.IsAbs(s.Build.Dockerfile) && s.Build.Dockerfile != want {
			t.Errorf("%s: Dockerfile %s, want %s", b, s.Build.Dockerfile, want)
		}
		if s.Build.Target != b {
			t.Errorf("%s: build target %q, want %q", b, s.Build.Target, b)
		}
	}
}

// dockerfile is the Dockerfile of the TIA binaries' images, relative to the
// root: one target a binary.
const dockerfile = "Dockerfile"

// dockerStage is one FROM … AS name stage of a Dockerfile: its base (an
// image or an earlier stage) and its instructions.
type dockerStage struct {
	base, text string
}

// dockerStages splits a Dockerfile into its stages by name.
func dockerStages(df string) map[string]dockerStage {
	from := regexp.MustCompile(`(?m)^FROM\s+(\S+)(?:\s+AS\s+(\S+))?\s*$`)
	stages := map[string]dockerStage{}
	idx := from.FindAllStringSubmatchIndex(df, -1)
	for i, m := range idx {
		end := len(df)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		if m[4] >= 0 { // an unnamed stage is no target
			stages[df[m[4]:m[5]]] = dockerStage{base: df[m[2]:m[3]], text: df[m[0]:end]}
		}
	}
	return stages
}

// targetOf is the text of a target with the stages it is built on, and the
// image it starts from.
func targetOf(stages map[string]dockerStage, target string) (text, image string) {
	for name := target; ; {
		s, ok := stages[name]
		if !ok {
			return text, name
		}
		text = s.text + text
		name = s.base
	}
}

// TestComposeConfiguresEveryVariable checks that every variable a binary
// reads (derived from its flag set) is set, that listen addresses are
// reachable from other containers, and that addresses of other services,
// the database, NATS and the collector name services of this file on the
// ports they listen on.
func TestComposeConfiguresEveryVariable(t *testing.T) {
	p := loadCompose(t)
	port := func(service, v string) string {
		val := p.Services[service].Environment[v]
		if val == nil {
			return ""
		}
		_, port, _ := net.SplitHostPort(*val)
		return port
	}
	initSQL, err := os.ReadFile("compose/postgres-init.sql")
	if err != nil {
		t.Fatal(err)
	}
	databases := map[string]string{}
	for _, b := range append(append([]string(nil), services...), gateway) {
		s, ok := p.Services[b]
		if !ok {
			t.Errorf("no service %s", b)
			continue
		}
		env := s.Environment
		for _, v := range binaryVars(t, b) {
			val, ok := env[v]
			if !ok || val == nil {
				t.Errorf("%s: %s is not set", b, v)
				continue
			}
			if requiredVar(b, v) && *val == "" {
				t.Errorf("%s: %s is empty", b, v)
			}
			switch {
			case listenVar(v) && *val != "":
				host, port, err := net.SplitHostPort(*val)
				if err != nil || port == "" {
					t.Errorf("%s: %s=%q is not host:port", b, v, *val)
				} else if host != "0.0.0.0" && host != "::" && host != "" {
					t.Errorf("%s: %s=%q is not reachable from other containers", b, v, *val)
				}
			}
			if peer, ok := peerVar(v); ok {
				host, port, err := net.SplitHostPort(*val)
				if err != nil || host != peer || port != portOf(p, peer, "TIA_GRPC_ADDR") {
					t.Errorf("%s: %s=%q, want %s:<its TIA_GRPC_ADDR port>", b, v, *val, peer)
				}
				if _, ok := s.DependsOn[peer]; !ok && b != gateway {
					t.Errorf("%s calls %s but does not depend on it", b, peer)
				}
			}
		}
		if ep := env["OTEL_EXPORTER_OTLP_ENDPOINT"]; ep == nil || !strings.HasPrefix(*ep, "http://otel-collector:") {
			t.Errorf("%s: OTEL_EXPORTER_OTLP_ENDPOINT does not name the collector", b)
		}
		if s.User == "" || strings.HasPrefix(s.User, "0") || s.User == "root" || !s.ReadOnly {
			t.Errorf("%s: must run as a non-root user on a read-only file system (user %q, read_only %v)", b, s.User, s.ReadOnly)
		}
		if b == gateway {
			hp := port(b, "TIA_HTTP_ADDR")
			published := false
			for _, pc := range s.Ports {
				if pc.Target != 0 && hp != "" && strings.TrimSpace(hp) == itoa(pc.Target) && pc.Published != "" {
					published = true
				}
			}
			if !published {
				t.Errorf("gateway: TIA_HTTP_ADDR port %s is not published", hp)
			}
			for _, svc := range services {
				if d, ok := s.DependsOn[svc]; !ok || d.Condition != types.ServiceConditionHealthy {
					t.Errorf("gateway does not wait for %s to be healthy", svc)
				}
			}
			continue
		}
		// Services: the health check asks the health port.
		if hc := s.HealthCheck; hc != nil && !slices.Contains([]string(hc.Test), "127.0.0.1:"+port(b, "TIA_HEALTH_ADDR")) {
			t.Errorf("%s: health check %v does not ask TIA_HEALTH_ADDR", b, hc.Test)
		}
		// Its own database is needed to start; NATS is not (events wait
		// in the outbox and the streams are created once NATS answers),
		// so a NATS outage never holds services back.
		if d, ok := s.DependsOn["postgres"]; !ok || d.Condition != types.ServiceConditionHealthy {
			t.Errorf("%s does not wait for postgres to be healthy", b)
		}
		if d, ok := s.DependsOn["nats"]; ok && d.Condition == types.ServiceConditionHealthy {
			t.Errorf("%s waits for nats to be healthy: services start without NATS", b)
		}
		if dsn := env["TIA_DATABASE_DSN"]; dsn != nil {
			u, err := url.Parse(*dsn)
			if err != nil || u.Scheme != "postgres" || u.Hostname() != "postgres" || u.Port() != "5432" {
				t.Errorf("%s: TIA_DATABASE_DSN does not name the postgres service", b)
			} else {
				db := strings.TrimPrefix(u.Path, "/")
				if other, dup := databases[db]; dup {
					t.Errorf("%s and %s share the database %s", b, other, db)
				}
				databases[db] = b
				if !strings.Contains(string(initSQL), "CREATE DATABASE "+db+" OWNER "+u.User.Username()+";") {
					t.Errorf("%s: compose/postgres-init.sql does not create database %s owned by %s", b, db, u.User.Username())
				}
			}
		}
		if nu := env["TIA_NATS_URL"]; nu != nil {
			if u, err := url.Parse(*nu); err != nil || u.Hostname() != "nats" {
				t.Errorf("%s: TIA_NATS_URL does not name the nats service", b)
			}
		}
		// Key material comes from mounted secrets.
		for _, v := range binaryVars(t, b) {
			val := env[v]
			if !secretFile(v) || val == nil || *val == "" {
				continue
			}
			mounted := false
			for _, sec := range s.Secrets {
				target := sec.Target
				if target == "" {
					target = "/run/secrets/" + sec.Source
				}
				if target == *val {
					mounted = true
				}
			}
			if !mounted {
				t.Errorf("%s: %s=%s is not a mounted secret", b, v, *val)
			}
		}
	}
}

func portOf(p *types.Project, service, v string) string {
	val := p.Services[service].Environment[v]
	if val == nil {
		return ""
	}
	_, port, _ := net.SplitHostPort(*val)
	return port
}

func itoa(n uint32) string {
	return fmtUint(n)
}

func fmtUint(n uint32) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

// readDockerfile reads the Dockerfile a service is built from (named
// relative to the build context unless absolute).
func readDockerfile(b *types.BuildConfig) (string, error) {
	df := b.Dockerfile
	if !filepath.IsAbs(df) {
		df = filepath.Join(b.Context, df)
	}
	text, err := os.ReadFile(df)
	return string(text), err
}

// TestDockerfiles checks the TIA images: multi-stage, a static binary,
// a minimal base without a shell, a non-root user.
func TestDockerfiles(t *testing.T) {
	text, err := os.ReadFile(filepath.Join(repoRoot, dockerfile))
	if err != nil {
		t.Fatal(err)
	}
	df := string(text)
	stages := dockerStages(df)
	build, ok := stages["build"]
	if !ok {
		t.Fatal("Dockerfile: no build stage")
	}
	for _, b := range append(append([]string(nil), services...), gateway) {
		target, final := targetOf(stages, b)
		if target == "" {
			t.Errorf("%s: no target %s in the Dockerfile", b, b)
			continue
		}
		if strings.Contains(target, "go build") {
			t.Errorf("%s: not a multi-stage build (the image compiles)", b)
		}
		if !strings.HasPrefix(final, "gcr.io/distroless/static") || !strings.HasSuffix(final, ":nonroot") {
			t.Errorf("%s: final image %s is not distroless/static:nonroot", b, final)
		}
		pkg := "./services/" + b + "/cmd/" + b
		if b == gateway {
			pkg = "./gateway/cmd/gateway"
		}
		for _, want := range []string{"CGO_ENABLED=0", "go build", pkg} {
			if !strings.Contains(build.text, want) {
				t.Errorf("%s: the build stage lacks %q", b, want)
			}
		}
		for _, want := range []string{"COPY --from=build /out/" + b + " ", "USER 65532:65532", `ENTRYPOINT ["/usr/local/bin/` + b + `"]`} {
			if !strings.Contains(target, want) {
				t.Errorf("%s: target %s lacks %q", b, b, want)
			}
		}
	}
}

// TestDockerfileCopySources: every file a Dockerfile of the compose stack
// copies from the build context exists (no Docker engine runs the builds
// here).
func TestDockerfileCopySources(t *testing.T) {
	p := loadCompose(t)
	copyLine := regexp.MustCompile(`(?m)^COPY\s+(.+)$`)
	for name, s := range p.Services {
		if s.Build == nil {
			continue
		}
		text, err := readDockerfile(s.Build)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for _, m := range copyLine.FindAllStringSubmatch(text, -1) {
			fields := strings.Fields(m[1])
			if strings.HasPrefix(fields[0], "--from=") {
				continue
			}
			for _, src := range fields[:len(fields)-1] {
				if strings.HasPrefix(src, "--") || src == "." {
					continue
				}
				if _, err := os.Stat(filepath.Join(s.Build.Context, src)); err != nil {
					t.Errorf("%s: %s copies %s, which is not in the build context", name, filepath.Base(s.Build.Dockerfile), src)
				}
			}
		}
	}
}
