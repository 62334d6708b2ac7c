package auth

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const (
	// tokenIssuer and tokenAudience are the fixed "iss" and "aud" values. One
	// value serves every service because the platform has a single trust
	// domain; checking them still stops tokens minted for other systems
	// with a shared key from being accepted.
	tokenIssuer   = "tia"
	tokenAudience = "tia"

	// leeway tolerates clock skew between the issuer and the verifying host.
	leeway = 30 * time.Second

	// maxTokenLen bounds the work done on attacker-supplied input before the
	// signature is checked. Real tokens are a few hundred bytes.
	maxTokenLen = 8 << 10

	// minRSABits is the smallest RSA modulus accepted for verification.
	minRSABits = 2048
)

// allowedAlgs is the closed list of accepted "alg" headers. Listing them
// explicitly rules out "none" and HMAC algorithms, and therefore attacks that
// pass a public key off as an HMAC secret.
var allowedAlgs = []jose.SignatureAlgorithm{jose.EdDSA, jose.RS256}

// Errors returned by Verify. All of them wrap ErrInvalidToken.
var (
	// ErrInvalidToken is wrapped by every error returned from Verify.
	ErrInvalidToken = errors.New("invalid token")
	// ErrTokenExpired reports a token whose exp lies more than the leeway in
	// the past. It is distinguished so that clients can be told to obtain a
	// new token rather than that their token is forged.
	ErrTokenExpired = fmt.Errorf("%w: expired", ErrInvalidToken)
)

// tokenClaims are the non-registered claims. Registered claims (iss, aud,
// sub, exp, iat, nbf) are handled by jwt.Claims.
type tokenClaims struct {
	Role    Role   `json:"role"`
	Lan     string `json:"lan,omitempty"`
	Org     string `json:"org,omitempty"`
	Dossier string `json:"dossier,omitempty"`
}

// Verifier checks bearer tokens and turns them into Principals. It is
// immutable after construction and safe for concurrent use.
type Verifier struct {
	keys []jose.JSONWebKey
	now  func() time.Time // replaced in tests
	// live, when set (WatchVerifier), holds the keys instead of keys and
	// is replaced whenever the source changes.
	live *liveKeys
}

// NewVerifier verifies EdDSA (Ed25519) or RS256 tokens signed by any of the
// keys. When a token has a "kid" header only keys with that key ID, or with
// no key ID at all, are tried; a key without an ID (such as one loaded from a
// PEM file) thus matches any token. Without a "kid" every key is tried.
//
// Private keys in the set are reduced to their public halves. Keys that can
// never verify an accepted token are dropped: other key types, RSA keys
// shorter than 2048 bits, keys marked for encryption ("use": "enc") and keys
// pinned to another algorithm. If no key is left, every token is rejected.
func NewVerifier(keys jose.JSONWebKeySet) *Verifier {
	return &Verifier{now: time.Now, keys: usableKeys(keys)}
}

// usableKeys are the public halves of the keys of set that can verify an
// accepted token (see NewVerifier).
func usableKeys(set jose.JSONWebKeySet) []jose.JSONWebKey {
	var usable []jose.JSONWebKey
	for _, k := range set.Keys {
		k = k.Public()
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		if k.Algorithm != "" && k.Algorithm != string(jose.EdDSA) && k.Algorithm != string(jose.RS256) {
			continue
		}
		switch key := k.Key.(type) {
		case ed25519.PublicKey:
			if len(key) != ed25519.PublicKeySize {
				continue
			}
		case *rsa.PublicKey:
			if key == nil || key.N == nil || key.N.BitLen() < minRSABits {
				continue
			}
		default:
			continue
		}
		usable = append(usable, k)
	}
	return usable
}

// LoadVerifier reads the trusted keys from path, which holds either a JWKS
// JSON document or one or more PEM "PUBLIC KEY" blocks (PKIX, Ed25519 or
// RSA). The latter is what DevKey writes next to the development key, so a
// service can trust a locally minted key with just a file path.
//
// It fails if the file yields no usable key, so that a misconfigured service
// stops at start-up instead of rejecting every request.
func LoadVerifier(path string) (*Verifier, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read verification keys: %w", err)
	}
	keys, err := parseKeys(data, path)
	if err != nil {
		return nil, err
	}
	return &Verifier{now: time.Now, keys: keys}, nil
}

// parseKeys reads a JWKS document or PEM public keys and returns the usable
// ones; it fails when none is.
func parseKeys(data []byte, name string) ([]jose.JSONWebKey, error) {
	var set jose.JSONWebKeySet
	trimmed := bytes.TrimSpace(data)
	if bytes.HasPrefix(trimmed, []byte("{")) {
		if err := json.Unmarshal(trimmed, &set); err != nil {
			return nil, fmt.Errorf("parse JWKS %s: %w", name, err)
		}
	} else {
		var err error
		set, err = parsePublicPEM(trimmed)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
	}
	keys := usableKeys(set)
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: no usable Ed25519 or RSA (>= %d bit) signing key", name, minRSABits)
	}
	return keys, nil
}

func parsePublicPEM(data []byte) (jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		switch block.Type {
		case "PUBLIC KEY":
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
			// Refuse rather than derive the public key: a service that only
			// verifies should never be given, and thereby hold, a signing key.
			return set, fmt.Errorf("found a %s block; verifiers take the public key (the .pub file)", block.Type)
		default:
			return set, fmt.Errorf("unsupported PEM block %q, want \"PUBLIC KEY\"", block.Type)
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return set, fmt.Errorf("parse public key: %w", err)
		}
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: pub, Use: "sig"})
	}
	if len(set.Keys) == 0 {
		return set, errors.New("no PEM public key or JWKS found")
	}
	return set, nil
}

// Verify checks the token's signature, issuer, audience and validity period
// (with 30 s leeway; exp is mandatory) and that the role and scope claims are
// consistent, and returns the caller it describes.
//
// Errors wrap ErrInvalidToken (and ErrTokenExpired for expired tokens). They
// never contain the token or its claim values, so they are safe to log.
func (v *Verifier) Verify(token string) (Principal, error) {
	if token == "" {
		return Principal{}, fmt.Errorf("%w: empty", ErrInvalidToken)
	}
	if len(token) > maxTokenLen {
		return Principal{}, fmt.Errorf("%w: longer than %d bytes", ErrInvalidToken, maxTokenLen)
	}
	// Parse errors from go-jose are not wrapped: some quote fragments of
	// the input, which is the token.
	tok, err := jwt.ParseSigned(token, allowedAlgs)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: malformed or unsupported algorithm", ErrInvalidToken)
	}
	if len(tok.Headers) != 1 {
		return Principal{}, fmt.Errorf("%w: expected exactly one signature", ErrInvalidToken)
	}
	hdr := tok.Headers[0]
	alg := jose.SignatureAlgorithm(hdr.Algorithm)

	var (
		std      jwt.Claims
		custom   tokenClaims
		verified bool
		tried    int
	)
	for _, k := range v.currentKeys() {
		if !keyMatches(k, hdr.KeyID, alg) {
			continue
		}
		tried++
		err := tok.Claims(k.Key, &std, &custom)
		if err == nil {
			verified = true
			break
		}
		if !errors.Is(err, jose.ErrCryptoFailure) {
			// The signature may have been fine but the payload is not
			// valid claims JSON; another key will not change that.
			return Principal{}, fmt.Errorf("%w: malformed claims or unsupported header", ErrInvalidToken)
		}
	}
	switch {
	case tried == 0:
		// Perhaps a key the source gained since it was last read.
		v.refreshSoon()
		return Principal{}, fmt.Errorf("%w: no trusted key matches its key ID and algorithm", ErrInvalidToken)
	case !verified:
		return Principal{}, fmt.Errorf("%w: bad signature", ErrInvalidToken)
	}

	if std.Expiry == nil {
		return Principal{}, fmt.Errorf("%w: no expiry", ErrInvalidToken)
	}
	err = std.ValidateWithLeeway(jwt.Expected{
		Issuer:      tokenIssuer,
		AnyAudience: jwt.Audience{tokenAudience},
		Time:        v.now(),
	}, leeway)
	switch {
	case errors.Is(err, jwt.ErrExpired):
		return Principal{}, ErrTokenExpired
	case err != nil:
		// jwt's validation errors are fixed strings and safe to include.
		return Principal{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}

	p := Principal{
		Subject: std.Subject,
		Role:    custom.Role,
		Lan:     custom.Lan,
		Org:     custom.Org,
		Dossier: custom.Dossier,
	}
	if err := p.validate(); err != nil {
		return Principal{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	return p, nil
}

// keyMatches reports whether k may verify a token with the given kid and alg
// headers. Binding the algorithm to the key type is what stops an RS256
// header from being checked against an Ed25519 key and vice versa.
func keyMatches(k jose.JSONWebKey, kid string, alg jose.SignatureAlgorithm) bool {
	if kid != "" && k.KeyID != "" && k.KeyID != kid {
		return false
	}
	if k.Algorithm != "" && k.Algorithm != string(alg) {
		return false
	}
	switch k.Key.(type) {
	case ed25519.PublicKey:
		return alg == jose.EdDSA
	case *rsa.PublicKey:
		return alg == jose.RS256
	}
	return false
}

// Issuer mints EdDSA tokens. It exists for the development and embedded
// modes, where the platform is its own identity provider, and for tests; in
// production tokens come from an external provider and services only hold a
// Verifier. It is safe for concurrent use.
type Issuer struct {
	signer jose.Signer
	pub    ed25519.PublicKey
	kid    string
	err    error            // set when the key was unusable; returned by Issue
	now    func() time.Time // replaced in tests
}

// NewIssuer returns an Issuer signing with key under the key ID kid. An
// empty kid is replaced by the key's RFC 7638 thumbprint, so that separately
// constructed Issuers and Verifiers for the same key agree on the ID without
// configuration.
//
// An invalid key does not panic: the error is reported by every call to
// Issue, and PublicKeys returns an empty set.
func NewIssuer(key ed25519.PrivateKey, kid string) *Issuer {
	i := &Issuer{now: time.Now}
	if len(key) != ed25519.PrivateKeySize {
		i.err = fmt.Errorf("issuer: Ed25519 private key has %d bytes, want %d", len(key), ed25519.PrivateKeySize)
		return i
	}
	i.pub = key.Public().(ed25519.PublicKey)
	if kid == "" {
		kid = Thumbprint(i.pub)
	}
	i.kid = kid
	i.signer, i.err = jose.NewSigner(
		jose.SigningKey{Algorithm: jose.EdDSA, Key: jose.JSONWebKey{Key: key, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if i.err != nil {
		i.err = fmt.Errorf("issuer: create signer: %w", i.err)
	}
	return i
}

// Thumbprint returns the RFC 7638 SHA-256 thumbprint of an Ed25519 public
// key, base64url-encoded. It is the default key ID used by NewIssuer.
func Thumbprint(pub ed25519.PublicKey) string {
	jwk := jose.JSONWebKey{Key: pub}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		// Only possible for a malformed key; an empty ID still works
		// because a key without an ID matches any kid.
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(sum)
}

// Issue returns a signed token for p that is valid from now for ttl. It
// refuses principals that Verify would reject, so an issued token is always
// usable.
func (i *Issuer) Issue(p Principal, ttl time.Duration) (string, error) {
	if i.err != nil {
		return "", i.err
	}
	if ttl <= 0 {
		return "", fmt.Errorf("issue token: ttl must be positive, got %v", ttl)
	}
	if err := p.validate(); err != nil {
		return "", fmt.Errorf("issue token: %w", err)
	}
	now := i.now()
	std := jwt.Claims{
		Issuer:    tokenIssuer,
		Audience:  jwt.Audience{tokenAudience},
		Subject:   p.Subject,
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		Expiry:    jwt.NewNumericDate(now.Add(ttl)),
	}
	custom := tokenClaims{Role: p.Role, Lan: p.Lan, Org: p.Org, Dossier: p.Dossier}
	token, err := jwt.Signed(i.signer).Claims(std).Claims(custom).Serialize()
	if err != nil {
		return "", fmt.Errorf("issue token: sign: %w", err)
	}
	return token, nil
}

// PublicKeys returns the key set that verifies this Issuer's tokens, for
// NewVerifier or for serving as a JWKS document.
func (i *Issuer) PublicKeys() jose.JSONWebKeySet {
	if i.pub == nil {
		return jose.JSONWebKeySet{}
	}
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key:       i.pub,
		KeyID:     i.kid,
		Algorithm: string(jose.EdDSA),
		Use:       "sig",
	}}}
}
