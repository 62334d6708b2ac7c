package deploy

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"testing"

	"github.com/tia-platform/tia/services/platform/tlsconfig/tlstest"
)

// newCA makes a certificate authority for one test, in its own folder.
func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	return &testCA{tlstest.NewCA(t, t.TempDir(), name)}
}

// testCA adapts tlstest.CA to this package's tests.
type testCA struct{ *tlstest.CA }

// file is the path of the CA's certificate.
func (ca *testCA) file() string { return ca.File }

func (ca *testCA) pool() *x509.CertPool { return ca.Pool() }

// issue makes a certificate for name valid for loopback (server and client
// authentication) and returns the paths of its certificate and key.
func (ca *testCA) issue(t *testing.T, name string) (certFile, keyFile string) {
	t.Helper()
	return ca.Issue(t, name, name)
}

// keyPair loads an issued certificate for a Go client.
func keyPair(t *testing.T, certFile, keyFile string) tls.Certificate {
	t.Helper()
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
