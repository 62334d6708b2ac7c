// Command tia-token mints a development bearer token for the TIA platform and
// prints it on stdout, for use with grpcurl, the gateway or tests:
//
//	tia-token -role lansstyrelse -lan 01
//	grpcurl -H "authorization: Bearer $(tia-token -role organiser -org 8020016281)" ...
//
// With -public pem or -public jwks it instead prints the public key of an
// existing private key (Ed25519 or RSA, PEM) for the services' TIA_TOKEN_KEY:
//
//	tia-token -key signing.pem -public jwks > jwks.json
//
// It signs with the development key that the embedded mode uses (creating it
// if missing), so its tokens are accepted by any service that trusts that key
// or the key.pub file written next to it. It is not meant for production,
// where tokens come from the real identity provider.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tia-platform/tia/services/platform/auth"
)

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		// Usage was printed on request; that is not a failure.
	default:
		fmt.Fprintln(os.Stderr, "tia-token:", err)
		os.Exit(1)
	}
}

// run is main without the process exit, so that it can be tested.
func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tia-token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		keyPath = fs.String("key", "data/keys/dev.pem", "path to the Ed25519 development private key; created if missing")
		kid     = fs.String("kid", "", "key ID for the token header; empty derives it from the key, as the embedded mode does")
		role    = fs.String("role", "", "role: migrationsverket, lansstyrelse, folkbildningsradet, organiser or asylum_seeker")
		lan     = fs.String("lan", "", "two-digit län code (role lansstyrelse)")
		org     = fs.String("org", "", "10-digit organisation number (role organiser)")
		dossier = fs.String("dossier", "", "dossier number NN-NNNNNN (role asylum_seeker)")
		sub     = fs.String("sub", "", `subject; defaults to "dev-<role>"`)
		ttl     = fs.Duration("ttl", 24*time.Hour, "token lifetime")
		public  = fs.String("public", "", `print the public key of the existing -key instead of a token: "pem" or "jwks"`)
	)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: tia-token -role ROLE [-lan NN | -org NNNNNNNNNN | -dossier NN-NNNNNN] [flags]")
		fmt.Fprintln(stderr, "       tia-token -key FILE -public pem|jwks")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if *public != "" {
		pubPEM, jwks, err := auth.PublicFromPrivate(*keyPath)
		if err != nil {
			return err
		}
		switch *public {
		case "pem":
			_, err = stdout.Write(pubPEM)
		case "jwks":
			_, err = stdout.Write(jwks)
		default:
			return fmt.Errorf(`-public %q: want "pem" or "jwks"`, *public)
		}
		return err
	}
	if *role == "" {
		fs.Usage()
		return errors.New("-role is required")
	}
	p := auth.Principal{
		Subject: *sub,
		Role:    auth.Role(*role),
		Lan:     *lan,
		Org:     *org,
		Dossier: *dossier,
	}
	if p.Subject == "" {
		p.Subject = "dev-" + *role
	}

	key, err := auth.DevKey(*keyPath)
	if err != nil {
		return err
	}
	token, err := auth.NewIssuer(key, *kid).Issue(p, *ttl)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, token)
	return err
}
