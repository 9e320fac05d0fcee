package spawn

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"
)

// Probe intervals: the first retry comes soon because a local server is
// often up within milliseconds, and later ones back off.
const (
	firstProbeDelay = 5 * time.Millisecond
	maxProbeDelay   = 250 * time.Millisecond
)

// newProbeClient returns the HTTP client that checks servers. It ignores
// proxy variables, which are meant for the users' programs, and does not
// follow redirects, because a redirect is a response. It keeps no idle
// connection: a server is probed while it starts and when the hub starts,
// and each idle connection would hold two goroutines and their buffers.
func newProbeClient() *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	transport.DisableKeepAlives = true
	return &http.Client{
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// waitUp polls the server at base+prefix until it responds, as JupyterHub's
// wait_for_http_server does. Any status below 500 counts, while connection
// errors and 5xx statuses mean "not yet". When the prefix responds with a
// 5xx, base+prefix+"api" is tried too. waitUp returns nil once the server
// responds, errExited when exited is closed first, or ctx's error.
func waitUp(ctx context.Context, client *http.Client, base, prefix string,
	exited <-chan struct{}) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-exited:
			cancel()
		case <-ctx.Done():
		}
	}()

	delay := firstProbeDelay
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			select {
			case <-exited:
				return errExited
			default:
				return ctx.Err()
			}
		case <-timer.C:
		}
		status, err := probe(ctx, client, base+prefix)
		if err == nil && status >= 500 {
			status, err = probe(ctx, client, base+prefix+"api")
		}
		if err == nil && status < 500 {
			return nil
		}
		timer.Reset(delay)
		delay = min(delay*2, maxProbeDelay)
	}
}

// errExited reports that the server process ended during a wait.
var errExited = errors.New("server process exited")

// probe sends one GET to url and returns the response's status.
func probe(ctx context.Context, client *http.Client, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, nil
}
