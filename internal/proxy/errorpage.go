package proxy

import (
	"context"
	"crypto/tls"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// errorPageTimeout limits fetching an error page from an error target.
const errorPageTimeout = 10 * time.Second

// maxErrorPage limits the size of an error page read from a file.
const maxErrorPage = 1 << 20

// ErrorTarget returns an Options.ErrorHandler that requests the page
// from the server at target, as configurable-http-proxy's --error-target does:
// it sends GET <target>/<status>?url=<request target> and responds with
// the proxy's status, the page's Content-Type and Content-Encoding, and
// its body. Redirects are not followed, and the request times out after
// 10 seconds. When the error server cannot be reached, the response is
// the status text. A failed WebSocket upgrade gets the status with an
// empty body. tlsConfig, which may be nil, is used for an https target.
func ErrorTarget(target string, tlsConfig *tls.Config, log *slog.Logger) (
	func(http.ResponseWriter, *http.Request, int, error), error,
) {
	base, err := parseTarget(target)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
		if base.RawPath != "" {
			base.RawPath += "/"
		}
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	transport.TLSClientConfig = tlsConfig
	transport.DialTLSContext = dialTargetTLS((&net.Dialer{Timeout: errorPageTimeout}).DialContext, tlsConfig)
	client := &http.Client{
		Transport:     transport,
		Timeout:       errorPageTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(w http.ResponseWriter, r *http.Request, status int, _ error) {
		if isUpgrade(r.Header) {
			w.WriteHeader(status)
			return
		}
		u := errorPageURL(base, status, r.URL.RequestURI())
		res, err := fetchErrorPage(r.Context(), client, u)
		if err != nil {
			log.Error("fetching the error page", "url", u, "err", err)
			writeStatusText(w, r, status, nil)
			return
		}
		defer res.Body.Close()
		for _, k := range []string{"Content-Type", "Content-Encoding"} {
			if v := res.Header.Get(k); v != "" {
				w.Header().Set(k, v)
			}
		}
		w.WriteHeader(status)
		io.Copy(w, res.Body)
	}, nil
}

// errorPageURL returns base with the status appended to its path and the
// request target as its url parameter.
func errorPageURL(base *url.URL, status int, requestURI string) string {
	u := *base
	code := strconv.Itoa(status)
	u.Path += code
	if u.RawPath != "" {
		u.RawPath += code
	}
	q := u.Query()
	q.Set("url", requestURI)
	u.RawQuery = q.Encode()
	return u.String()
}

func fetchErrorPage(ctx context.Context, client *http.Client, u string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	return client.Do(req)
}

// ErrorFiles returns an Options.ErrorHandler that responds with the file
// <dir>/<status>.html, or else <dir>/error.html, as text/html, as
// configurable-http-proxy's --error-path does. When neither can be read
// the response is a short page of jupygo's own. A failed WebSocket
// upgrade gets the status with an empty body.
func ErrorFiles(dir string, log *slog.Logger) func(http.ResponseWriter, *http.Request, int, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(w http.ResponseWriter, r *http.Request, status int, err error) {
		if isUpgrade(r.Header) {
			w.WriteHeader(status)
			return
		}
		page, readErr := readErrorFile(dir, status)
		if readErr != nil {
			log.Error("reading the error page", "dir", dir, "status", status, "err", readErr)
			ErrorPage(w, r, status, err)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		w.Write(page)
	}
}

func readErrorFile(dir string, status int) ([]byte, error) {
	name := filepath.Join(dir, strconv.Itoa(status)+".html")
	if _, err := os.Stat(name); err != nil {
		name = filepath.Join(dir, "error.html")
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxErrorPage))
}

// ErrorPage is an Options.ErrorHandler that responds with a short HTML page
// naming the status, the standalone proxy's default. A failed WebSocket
// upgrade gets the status with an empty body.
func ErrorPage(w http.ResponseWriter, r *http.Request, status int, _ error) {
	if isUpgrade(r.Header) {
		w.WriteHeader(status)
		return
	}
	title := html.EscapeString(fmt.Sprintf("%d: %s", status, http.StatusText(status)))
	detail := "The server behind this URL did not answer."
	if status == http.StatusNotFound {
		detail = "No server is routed at this URL."
	}
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html>\n<html>\n<head><meta charset=\"utf-8\"><title>%s</title></head>\n"+
		"<body>\n<h1>%s</h1>\n<p>%s</p>\n<hr>\n<p>jupygo proxy</p>\n</body>\n</html>\n",
		title, title, detail)
}
