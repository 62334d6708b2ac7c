package auth

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"

	"github.com/go-jose/go-jose/v4"
)

// PublicFromPrivate reads the private signing key at path (PEM: PKCS#8
// "PRIVATE KEY" holding Ed25519 or RSA, or PKCS#1 "RSA PRIVATE KEY") and
// returns its public key as a PEM "PUBLIC KEY" block and as a JWKS document
// (key ID: the RFC 7638 thumbprint, as NewIssuer uses; "use": "sig"), so an
// existing key, not only one DevKey created, can be trusted by services.
// The private key never leaves this function.
func PublicFromPrivate(path string) (pubPEM, jwks []byte, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read private key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, nil, fmt.Errorf("%s: no PEM block", path)
	}
	var priv any
	switch block.Type {
	case "PRIVATE KEY":
		priv, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		priv, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, nil, fmt.Errorf("%s: PEM block %q, want \"PRIVATE KEY\" or \"RSA PRIVATE KEY\"", path, block.Type)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	var (
		pub crypto.PublicKey
		alg jose.SignatureAlgorithm
	)
	switch k := priv.(type) {
	case ed25519.PrivateKey:
		pub, alg = k.Public(), jose.EdDSA
	case *rsa.PrivateKey:
		if k.N.BitLen() < minRSABits {
			return nil, nil, fmt.Errorf("%s: RSA key of %d bits, verifiers need at least %d", path, k.N.BitLen(), minRSABits)
		}
		pub, alg = k.Public(), jose.RS256
	default:
		return nil, nil, fmt.Errorf("%s: %T keys cannot sign TIA tokens (Ed25519 or RSA)", path, priv)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, nil, fmt.Errorf("encode public key: %w", err)
	}
	jwk := jose.JSONWebKey{Key: pub, Algorithm: string(alg), Use: "sig"}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, nil, fmt.Errorf("key thumbprint: %w", err)
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(sum)
	jwks, err = json.MarshalIndent(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{jwk}}, "", "  ")
	if err != nil {
		return nil, nil, fmt.Errorf("encode JWKS: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), append(jwks, '\n'), nil
}
