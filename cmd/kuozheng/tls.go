package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"net"
	"os"
	"time"
)

// tlsFlags are serve's transport options: HTTPS with a certificate and its key, or plain HTTP.
type tlsFlags struct {
	cert, key    string
	insecureHTTP bool
}

func (f *tlsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.cert, "tls-cert", "", "serve the API over HTTPS (TLS 1.2 or later) with this PEM certificate, the server's first and then any intermediates; needs --tls-key. --metrics-listen and --pprof stay plain HTTP")
	fs.StringVar(&f.key, "tls-key", "", "the PEM private key of --tls-cert")
	fs.BoolVar(&f.insecureHTTP, "insecure-http", false, "allow --tokens on a non-loopback --listen without TLS, the bearer tokens crossing the network in clear text: only behind a proxy that terminates TLS")
}

func (f tlsFlags) enabled() bool { return f.cert != "" }

// checkTransport applies the rules of serve's listener: --tls-cert and --tls-key go together; a
// non-loopback --listen needs --tokens (else anyone would be admin) and then TLS, since the
// tokens would cross the network in clear text, unless --insecure-http says a proxy in front
// terminates TLS. Loopback without TLS stays allowed. Every refusal is a usage error.
func checkTransport(listen string, tokens bool, f tlsFlags) error {
	switch {
	case f.cert != "" && f.key == "":
		return usageError{"--tls-cert needs --tls-key, the certificate's private key"}
	case f.key != "" && f.cert == "":
		return usageError{"--tls-key needs --tls-cert, the certificate it is the key of"}
	case f.insecureHTTP && f.enabled():
		return usageError{"--insecure-http and --tls-cert: the API is served over HTTPS; drop --insecure-http"}
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return usageError{fmt.Sprintf("--listen %q: %v", listen, err)}
	}
	switch {
	case isLoopback(host):
	case !tokens:
		return usageError{fmt.Sprintf("--listen %s is not a loopback address: give --tokens, or the ledger would accept anyone as admin", listen)}
	case !f.enabled() && !f.insecureHTTP:
		return usageError{fmt.Sprintf("--tokens on --listen %s (not a loopback address) without TLS would send the bearer tokens over the network in clear text: "+
			"give --tls-cert and --tls-key, or --insecure-http when a proxy in front of this server terminates TLS", listen)}
	}
	return nil
}

// serverTLS reads the certificate and key of f (set: checkTransport passed) into the API's TLS
// configuration, TLS 1.2 at least; a file that cannot be read, or a key that is not the
// certificate's, is an error naming the flag.
func serverTLS(f tlsFlags) (*tls.Config, *x509.Certificate, error) {
	certPEM, err := os.ReadFile(f.cert)
	if err != nil {
		return nil, nil, fmt.Errorf("--tls-cert: %w", err)
	}
	keyPEM, err := os.ReadFile(f.key)
	if err != nil {
		return nil, nil, fmt.Errorf("--tls-key: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("--tls-cert %s and --tls-key %s: %w", f.cert, f.key, err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}, cert.Leaf, nil
}

// certValidity says why a certificate is not valid at now ("" when it is): clients refuse it.
func certValidity(c *x509.Certificate, now time.Time) string {
	switch {
	case now.Before(c.NotBefore):
		return fmt.Sprintf("not valid before %s", c.NotBefore.UTC().Format(time.RFC3339))
	case now.After(c.NotAfter):
		return fmt.Sprintf("expired at %s", c.NotAfter.UTC().Format(time.RFC3339))
	}
	return ""
}
