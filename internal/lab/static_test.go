package lab

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func gunzip(t *testing.T, data []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("body is not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("reading gzip body: %v", err)
	}
	return string(out)
}

func TestStaticGzipNegotiation(t *testing.T) {
	tl := newTestLab(t, Options{Build: fakeBuild(t)})
	const path = "/static/lab/main.0123456789abcdef.js?v=0123456789abcdef"
	tests := []struct {
		name, accept string
		gzip         bool
	}{
		{"no header", "", false},
		{"gzip", "gzip", true},
		{"list with gzip", "br, gzip, deflate", true},
		{"x-gzip", "x-gzip", true},
		{"star", "*", true},
		{"gzip refused", "gzip;q=0, identity", false},
		{"gzip refused star allowed", "gzip;q=0, *", false},
		{"star refused", "*;q=0", false},
		{"weighted", "gzip; q=0.5", true},
		{"identity only", "identity", false},
		{"invalid q", "gzip;q=2", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tl.do(t, "GET", path, "", "Accept-Encoding", tt.accept)
			if r.status != http.StatusOK {
				t.Fatalf("status = %d, want 200", r.status)
			}
			body := string(r.body)
			wantEncoding := ""
			if tt.gzip {
				wantEncoding = "gzip"
				body = gunzip(t, r.body)
			}
			if got := r.header.Get("Content-Encoding"); got != wantEncoding {
				t.Errorf("Content-Encoding = %q, want %q", got, wantEncoding)
			}
			if body != mainJS {
				t.Errorf("body = %q, want %q", body, mainJS)
			}
			if got := r.header.Get("Vary"); got != "Accept-Encoding" {
				t.Errorf("Vary = %q, want Accept-Encoding", got)
			}
			if got := r.header.Get("Content-Type"); got != "text/javascript; charset=utf-8" {
				t.Errorf("Content-Type = %q", got)
			}
		})
	}
}

func TestStaticHeaders(t *testing.T) {
	tl := newTestLab(t, Options{Build: fakeBuild(t)})
	const immutable = "public, max-age=31536000, immutable"
	tests := []struct {
		path, contentType, cache string
	}{
		{"/static/lab/main.0123456789abcdef.js?v=0123456789abcdef", "text/javascript; charset=utf-8", immutable},
		{"/static/lab/main.0123456789abcdef.js", "text/javascript; charset=utf-8", immutable},
		{"/static/lab/0123456789abcdef.woff2", "font/woff2", immutable},
		{"/static/lab/favicon.svg", "image/svg+xml", "no-cache"},
		{"/static/lab/third-party-licenses.json", "application/json", "no-cache"},
		{"/lab/api/themes/@jupyterlab/theme-light-extension/index.css", "text/css; charset=utf-8", "no-cache"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := tl.do(t, "GET", tt.path, "")
			if r.status != http.StatusOK {
				t.Fatalf("status = %d, want 200", r.status)
			}
			got := []string{r.header.Get("Content-Type"), r.header.Get("Cache-Control")}
			if diff := cmp.Diff([]string{tt.contentType, tt.cache}, got); diff != "" {
				t.Errorf("Content-Type, Cache-Control (-want +got):\n%s", diff)
			}
			if r.header.Get("ETag") == "" {
				t.Errorf("no ETag")
			}
		})
	}
}

func TestStaticETagRevalidation(t *testing.T) {
	tl := newTestLab(t, Options{Build: fakeBuild(t)})
	first := tl.do(t, "GET", "/static/lab/favicon.svg", "")
	etag := first.header.Get("ETag")
	r := tl.do(t, "GET", "/static/lab/favicon.svg", "", "If-None-Match", etag)
	if r.status != http.StatusNotModified {
		t.Errorf("status with matching If-None-Match = %d, want 304", r.status)
	}
	plain := tl.do(t, "GET", "/static/lab/main.0123456789abcdef.js", "").header.Get("ETag")
	zipped := tl.do(t, "GET", "/static/lab/main.0123456789abcdef.js", "",
		"Accept-Encoding", "gzip").header.Get("ETag")
	if plain == zipped {
		t.Errorf("plain and gzip bodies share ETag %s", plain)
	}
}

func TestStaticNotServed(t *testing.T) {
	tl := newTestLab(t, Options{Build: fakeBuild(t)})
	for _, path := range []string{
		"/static/lab/index.html",
		"/static/lab/package.json",
		"/static/lab/main.0123456789abcdef.js.gz",
		"/static/lab/missing.js",
		"/static/lab/../static/index.html",
		"/static/lab/%2e%2e/schemas/plain-extension/plugin.with-dots.v2.json",
		"/static/lab/",
		"/lab/api/themes/@jupyterlab/../../static/index.html",
		"/lab/api/themes/@jupyterlab",
	} {
		t.Run(path, func(t *testing.T) {
			r := tl.do(t, "GET", path, "")
			if r.status == http.StatusOK {
				t.Errorf("status = 200, want an error; body %q", r.body)
			}
		})
	}
}

func TestStaticHeadAndRange(t *testing.T) {
	tl := newTestLab(t, Options{Build: fakeBuild(t)})
	head := tl.do(t, "HEAD", "/static/lab/main.0123456789abcdef.js", "")
	if head.status != http.StatusOK || len(head.body) != 0 {
		t.Errorf("HEAD: status %d, %d body bytes; want 200 and none", head.status, len(head.body))
	}
	part := tl.do(t, "GET", "/static/lab/main.0123456789abcdef.js", "", "Range", "bytes=0-6")
	if part.status != http.StatusPartialContent || string(part.body) != mainJS[:7] {
		t.Errorf("Range: status %d, body %q; want 206 and %q", part.status, part.body, mainJS[:7])
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := map[string]bool{
		"":                     false,
		"gzip":                 true,
		"GZIP":                 true,
		"deflate, gzip;q=1.0":  true,
		"gzip;q=0":             false,
		"gzip;q=0.000":         false,
		"gzip;q=0.001":         true,
		"*;q=0.1":              true,
		"identity;q=1, *;q=0":  false,
		"gzip;level=9":         true,
		"gzip;q=abc":           false,
		",,,":                  false,
		"x-gzip;q=1, gzip;q=0": true,
	}
	for header, want := range tests {
		if got := acceptsGzip(header); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", header, got, want)
		}
	}
}
