// Package tlsconfig builds the TLS configurations of TIA's binaries from PEM
// files: TLS on the REST edge, and mutual TLS between the gateway and the
// services and between services.
//
// Certificates and keys are read again whenever their files change, so a
// certificate rotated on disk (a renewed Kubernetes secret, cert-manager) is
// used for new connections without a restart.
package tlsconfig

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// Files names the PEM files of one binary. Empty names turn the matching
// feature off.
type Files struct {
	// Cert and Key are the certificate (chain) and private key this binary
	// serves with (TIA_TLS_CERT, TIA_TLS_KEY).
	Cert, Key string
	// CA is the bundle of certificate authorities that sign TIA's internal
	// certificates (TIA_TLS_CA). A service serving TLS with a CA requires
	// and verifies client certificates (mutual TLS); a client verifies the
	// servers it calls against it.
	CA string
	// ClientCert and ClientKey are the certificate and key presented when
	// calling services (TIA_TLS_CLIENT_CERT, TIA_TLS_CLIENT_KEY). They
	// default to Cert and Key.
	ClientCert, ClientKey string
}

// ServesTLS reports whether a serving certificate is configured.
func (f Files) ServesTLS() bool { return f.Cert != "" || f.Key != "" }

// DialsTLS reports whether calls to services use TLS: when a CA to verify
// them is configured.
func (f Files) DialsTLS() bool { return f.CA != "" }

// Check reports incomplete settings.
func (f Files) Check() error {
	if (f.Cert == "") != (f.Key == "") {
		return errors.New("tls: TIA_TLS_CERT and TIA_TLS_KEY must be set together")
	}
	if (f.ClientCert == "") != (f.ClientKey == "") {
		return errors.New("tls: TIA_TLS_CLIENT_CERT and TIA_TLS_CLIENT_KEY must be set together")
	}
	return nil
}

// Server returns the configuration of a listener, or nil when no serving
// certificate is configured. With requireClientCert, a configured CA makes
// the server require a client certificate signed by it (mutual TLS).
func Server(f Files, requireClientCert bool) (*tls.Config, error) {
	if err := f.Check(); err != nil {
		return nil, err
	}
	if !f.ServesTLS() {
		return nil, nil
	}
	cert := keyPair(f.Cert, f.Key)
	if _, err := cert.get(); err != nil {
		return nil, err
	}
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return cert.get()
		},
	}
	if requireClientCert && f.CA != "" {
		ca := caPool(f.CA)
		if _, err := ca.get(); err != nil {
			return nil, err
		}
		// GetConfigForClient re-reads a rotated CA bundle for each handshake.
		cfg.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
			pool, err := ca.get()
			if err != nil {
				return nil, err
			}
			c := cfg.Clone()
			c.GetConfigForClient = nil
			c.ClientAuth = tls.RequireAndVerifyClientCert
			c.ClientCAs = pool
			return c, nil
		}
	}
	return cfg, nil
}

// Client returns the configuration for calling services, or nil when no CA
// is configured (plaintext). It presents the client certificate (or the
// serving one) when configured.
func Client(f Files) (*tls.Config, error) {
	if err := f.Check(); err != nil {
		return nil, err
	}
	if !f.DialsTLS() {
		return nil, nil
	}
	ca := caPool(f.CA)
	pool, err := ca.get()
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
	certFile, keyFile := f.ClientCert, f.ClientKey
	if certFile == "" {
		certFile, keyFile = f.Cert, f.Key
	}
	if certFile != "" {
		cert := keyPair(certFile, keyFile)
		if _, err := cert.get(); err != nil {
			return nil, err
		}
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return cert.get()
		}
	}
	return cfg, nil
}

// recheck is how often the files' modification times are looked at.
const recheck = 5 * time.Second

// reloading is a value loaded from files, loaded again when one of them
// changes (their size and modification time are looked at every recheck).
// While a new version does not load, as when a rotation is half written,
// the last good one is kept.
type reloading[T any] struct {
	files []string
	load  func() (T, error)

	mu      sync.Mutex
	checked time.Time
	stamp   string
	current T
	loaded  bool
}

func (r *reloading[T]) get() (T, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.loaded && time.Since(r.checked) < recheck {
		return r.current, nil
	}
	r.checked = time.Now()
	stamp, err := stamps(r.files...)
	if err == nil && r.loaded && stamp == r.stamp {
		return r.current, nil
	}
	var v T
	if err == nil {
		v, err = r.load()
	}
	if err != nil {
		if r.loaded {
			return r.current, nil // keep serving while a rotation is half written
		}
		return v, fmt.Errorf("tls: %w", err)
	}
	r.current, r.stamp, r.loaded = v, stamp, true
	return v, nil
}

// keyPair is a certificate and its key.
func keyPair(cert, key string) *reloading[*tls.Certificate] {
	return &reloading[*tls.Certificate]{files: []string{cert, key}, load: func() (*tls.Certificate, error) {
		c, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("load %s and %s: %w", cert, key, err)
		}
		return &c, nil
	}}
}

// caPool is a bundle of CA certificates.
func caPool(file string) *reloading[*x509.CertPool] {
	return &reloading[*x509.CertPool]{files: []string{file}, load: func() (*x509.CertPool, error) {
		pemBytes, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemBytes) {
			return nil, fmt.Errorf("%s holds no PEM certificate", file)
		}
		return pool, nil
	}}
}

// stamps identifies the current version of files by size and modification time.
func stamps(files ...string) (string, error) {
	var s string
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			return "", err
		}
		s += fmt.Sprintf("%s:%d:%d;", f, fi.Size(), fi.ModTime().UnixNano())
	}
	return s, nil
}
