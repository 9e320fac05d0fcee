package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/jupygo/jupygo/bench/internal/benchkit"
	"io"
	"net/http"
	"net/url"
	"time"
)

// apiClient sends Jupyter Server REST requests with token authentication.
type apiClient struct {
	base  string // http://127.0.0.1:PORT, no trailing slash
	token string
	http  *http.Client
}

// newAPIClient returns a client for the server at base. Responses are not
// compressed (DisableCompression), so timings measure the server's work
// and not gzip on either side.
func newAPIClient(base, token string) *apiClient {
	transport := &http.Transport{
		DisableCompression:  true,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
	}
	return &apiClient{base: base, token: token, http: &http.Client{Transport: transport}}
}

// close drops the client's idle connections.
func (c *apiClient) close() { c.http.CloseIdleConnections() }

// do sends a request with body (nil for none) and reads the whole response
// body into buf, which it resets first. It returns the status code.
func (c *apiClient) do(ctx context.Context, method, path string, body []byte, buf *bytes.Buffer) (int, error) {
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, reader)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "token "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return resp.StatusCode, fmt.Errorf("%s %s: reading response: %w", method, path, err)
	}
	return resp.StatusCode, nil
}

// call sends a request with a JSON body (nil for none), checks the status
// against want and decodes the response into out (nil to skip).
func (c *apiClient) call(ctx context.Context, method, path string, in any, want int, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("%s %s: encoding body: %w", method, path, err)
		}
	}
	var buf bytes.Buffer
	status, err := c.do(ctx, method, path, body, &buf)
	if err != nil {
		return err
	}
	if status != want {
		return fmt.Errorf("%s %s: status %d, want %d: %s", method, path, status, want, truncate(buf.Bytes(), 300))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(buf.Bytes(), out); err != nil {
		return fmt.Errorf("%s %s: decoding response: %w", method, path, err)
	}
	return nil
}

// readyPoll is the pause between two polls of waitReady, which bounds the
// error of a start time measured with it.
const readyPoll = time.Millisecond

// maxReadyAttempts bounds the polls of waitReady: 60000 attempts take at
// least a minute.
const maxReadyAttempts = 60000

// waitReady polls GET /api/status until it returns 200, the process exits,
// ctx ends or maxReadyAttempts polls have failed.
func (c *apiClient) waitReady(ctx context.Context, p *benchkit.Process) error {
	var buf bytes.Buffer
	var last error
	for attempt := 0; attempt < maxReadyAttempts; attempt++ {
		if p.Exited() {
			return fmt.Errorf("server exited before GET /api/status returned 200 (%v):\n%s", p.Err(), p.LogTail())
		}
		reqCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		status, err := c.do(reqCtx, http.MethodGet, "/api/status", nil, &buf)
		cancel()
		if err == nil && status == http.StatusOK {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("GET /api/status: status %d", status)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for GET /api/status after %d attempts: %w (last: %v)", attempt+1, ctx.Err(), last)
		case <-time.After(readyPoll):
		}
	}
	return fmt.Errorf("GET /api/status: no 200 after %d attempts (last: %v)", maxReadyAttempts, last)
}

// kernelModel is the part of the kernel model the benchmark reads.
type kernelModel struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// startKernel sends POST /api/kernels for the kernelspec name.
func (c *apiClient) startKernel(ctx context.Context, name string) (kernelModel, error) {
	var k kernelModel
	err := c.call(ctx, http.MethodPost, "/api/kernels", map[string]string{"name": name}, http.StatusCreated, &k)
	if err == nil && k.ID == "" {
		err = fmt.Errorf("POST /api/kernels: response has no kernel id")
	}
	return k, err
}

// deleteKernel sends DELETE /api/kernels/ID, which stops the kernel.
func (c *apiClient) deleteKernel(ctx context.Context, id string) error {
	return c.call(ctx, http.MethodDelete, "/api/kernels/"+url.PathEscape(id), nil, http.StatusNoContent, nil)
}

// version returns the version field of GET /api.
func (c *apiClient) version(ctx context.Context) (string, error) {
	var v struct {
		Version string `json:"version"`
	}
	err := c.call(ctx, http.MethodGet, "/api", nil, http.StatusOK, &v)
	return v.Version, err
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
