package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/kuozheng/kuozheng/api"
)

// remote is how a command reaches a running server.
type remote struct {
	server string
}

func (r *remote) register(fs *flag.FlagSet) {
	fs.StringVar(&r.server, "server", "http://127.0.0.1:8080", "URL of a running kuozheng server (token from KUOZHENG_TOKEN)")
}

func (r *remote) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(r.server, "/")+path, nil)
	if err != nil {
		return err
	}
	return r.do(req, v)
}

// do sends a request and decodes a 2xx JSON answer into v, or turns an error answer into one line.
// do sends a request with the token from KUOZHENG_TOKEN and decodes the JSON answer into v.
func (r *remote) do(req *http.Request, v any) error {
	if tok := os.Getenv("KUOZHENG_TOKEN"); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%w (is 'kuozheng serve' running? or use --data DIR)", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var eb api.ErrorBody
		if json.Unmarshal(body, &eb) == nil && eb.Detail != "" {
			if eb.Field != "" {
				return fmt.Errorf("%s: %s: %s", resp.Status, eb.Field, eb.Detail)
			}
			return fmt.Errorf("%s: %s", resp.Status, eb.Detail)
		}
		return fmt.Errorf("%s", resp.Status)
	}
	return json.Unmarshal(body, v)
}

// flagSet reports whether a flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func (r *remote) post(ctx context.Context, path string, body []byte, v any, key string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(r.server, "/")+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	return r.do(req, v)
}
