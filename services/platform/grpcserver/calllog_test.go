package grpcserver

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestCallLog(t *testing.T) {
	info := &grpc.UnaryServerInfo{FullMethod: "/tia.activity.v1.ActivityService/GetActivity"}
	call := func(level slog.Level, err error) []map[string]any {
		t.Helper()
		var buf bytes.Buffer
		ic := logUnary(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: level})))
		_, got := ic(context.Background(), "dossier 123456789", info, func(context.Context, any) (any, error) { return "reply", err })
		if got != err { //nolint:errorlint // the interceptor passes the handler's error on as it is
			t.Fatalf("the interceptor returned %v, the handler %v", got, err)
		}
		var lines []map[string]any
		for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			if l == "" {
				continue
			}
			if strings.Contains(l, "123456789") {
				t.Errorf("the payload is in the log: %s", l)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("log line %q: %v", l, err)
			}
			lines = append(lines, m)
		}
		return lines
	}

	lines := call(slog.LevelInfo, nil)
	if len(lines) != 1 {
		t.Fatalf("info level, OK call: %d lines, want 1", len(lines))
	}
	want := map[string]any{"msg": "finished call", "level": "INFO", "protocol": "grpc", "grpc.component": "server",
		"grpc.service": "tia.activity.v1.ActivityService", "grpc.method": "GetActivity", "grpc.method_type": "unary", "grpc.code": "OK"}
	for k, v := range want {
		if lines[0][k] != v {
			t.Errorf("%s = %v, want %v", k, lines[0][k], v)
		}
	}
	for _, k := range []string{"grpc.start_time", "grpc.time_ms"} {
		if _, ok := lines[0][k]; !ok {
			t.Errorf("no %s in %v", k, lines[0])
		}
	}

	if lines := call(slog.LevelWarn, nil); len(lines) != 0 {
		t.Errorf("warn level, OK call: logged %v", lines)
	}
	if lines := call(slog.LevelWarn, status.Error(codes.NotFound, "no such activity")); len(lines) != 0 {
		t.Errorf("warn level, NotFound: logged %v", lines)
	}
	lines = call(slog.LevelWarn, status.Error(codes.PermissionDenied, "another län"))
	if len(lines) != 1 || lines[0]["level"] != "WARN" || lines[0]["grpc.code"] != "PermissionDenied" {
		t.Errorf("warn level, PermissionDenied: %v", lines)
	}
	lines = call(slog.LevelWarn, status.Error(codes.Internal, "internal error"))
	if len(lines) != 1 || lines[0]["level"] != "ERROR" || lines[0]["grpc.error"] == nil {
		t.Errorf("warn level, Internal: %v", lines)
	}
}

func TestSplitMethod(t *testing.T) {
	for in, want := range map[string][2]string{
		"/tia.activity.v1.ActivityService/GetActivity": {"tia.activity.v1.ActivityService", "GetActivity"},
		"grpc.health.v1.Health/Check":                  {"grpc.health.v1.Health", "Check"},
		"nonsense":                                     {"unknown", "unknown"},
	} {
		if s, m := splitMethod(in); s != want[0] || m != want[1] {
			t.Errorf("splitMethod(%q) = %q, %q, want %q, %q", in, s, m, want[0], want[1])
		}
	}
}
