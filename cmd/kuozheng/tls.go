package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
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
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return usageError{fmt.Sprintf("--listen %q: %v", listen, err)}
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return usageError{fmt.Sprintf("--listen %q: port %q is not a port (0 to 65535, or a service's name)", listen, port)}
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
// certificate's, is an error naming the flag. The files are read again when they change (see
// certReloader), so a renewed certificate is served without a restart.
func serverTLS(f tlsFlags, log *slog.Logger) (*tls.Config, *x509.Certificate, error) {
	r := &certReloader{certFile: f.cert, keyFile: f.key, log: log}
	r.seen = r.stamps()
	cert, err := r.load()
	if err != nil {
		return nil, nil, err
	}
	r.cert = cert
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.certificate}, cert.Leaf, nil
}

// certReloader serves the certificate of --tls-cert and --tls-key and reads the pair again when
// either file has changed since (a renewal replaces them; serve runs for years). A changed pair
// that does not load, such as a certificate replaced before its key, is logged and the pair
// before it served until the files change again.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger

	mu   sync.Mutex
	cert *tls.Certificate
	seen [2]fileStamp // the files as they were when last read
}

// fileStamp is what tells a file changed: its modification time and size (zero: unreadable).
type fileStamp struct {
	mod  time.Time
	size int64
}

// stamps are the pair's files as they are now: two stats, at each handshake.
func (r *certReloader) stamps() [2]fileStamp {
	var out [2]fileStamp
	for i, name := range []string{r.certFile, r.keyFile} {
		if fi, err := os.Stat(name); err == nil {
			out[i] = fileStamp{fi.ModTime(), fi.Size()}
		}
	}
	return out
}

// load reads the pair.
func (r *certReloader) load() (*tls.Certificate, error) {
	certPEM, err := os.ReadFile(r.certFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert: %w", err)
	}
	keyPEM, err := os.ReadFile(r.keyFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-key: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert %s and --tls-key %s: %w", r.certFile, r.keyFile, err)
	}
	return &cert, nil
}

// certificate is tls.Config.GetCertificate: the pair as the files hold it now, or the last pair
// that loaded.
func (r *certReloader) certificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	now := r.stamps()
	r.mu.Lock()
	defer r.mu.Unlock()
	if now == r.seen {
		return r.cert, nil
	}
	r.seen = now
	cert, err := r.load()
	if err != nil {
		r.log.Warn("the TLS certificate's files changed and do not load: the certificate before is served until they do", "err", err)
		return r.cert, nil
	}
	r.cert = cert
	r.log.Info("TLS certificate read again", "subject", cert.Leaf.Subject.String(), "dns_names", cert.Leaf.DNSNames, "not_after", cert.Leaf.NotAfter)
	if why := certValidity(cert.Leaf, time.Now()); why != "" {
		r.log.Warn("the TLS certificate is "+why+": clients will refuse it", "cert", r.certFile)
	}
	return r.cert, nil
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
