// Package loopback serves HTTP handlers on a loopback port for the bench
// commands, which time the same requests against the edge and against a
// hand-written baseline.
package loopback

import (
	"net"
	"net/http"
	"time"
)

// Serve serves h on a free loopback port and returns its base URL and a
// function that stops it.
func Serve(h http.Handler) (base string, stop func(), err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	return "http://" + l.Addr().String(), func() { _ = srv.Close() }, nil
}
