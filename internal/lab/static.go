package lab

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// hashedName returns a regular expression, compiled on first use, that matches
// the file names that carry a content hash, such as
// jlab_core.21b00e471229e67b.js or 0031b1860ea4ad75.woff. Their content never
// changes, so they may be cached forever.
var hashedName = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(^|\.)[0-9a-f]{16,}\.[A-Za-z0-9]+$`)
})

// contentTypes fixes the types of the files a build contains, so that they
// do not depend on the machine's MIME table.
var contentTypes = map[string]string{
	".js":    "text/javascript; charset=utf-8",
	".mjs":   "text/javascript; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".json":  "application/json",
	".map":   "application/json",
	".html":  "text/html; charset=utf-8",
	".txt":   "text/plain; charset=utf-8",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".gif":   "image/gif",
	".jpg":   "image/jpeg",
	".ico":   "image/x-icon",
	".woff":  "font/woff",
	".woff2": "font/woff2",
	".ttf":   "font/ttf",
	".otf":   "font/otf",
	".eot":   "application/vnd.ms-fontobject",
	".wasm":  "application/wasm",
}

// contentType returns the Content-Type for a file name.
func contentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := contentTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// fileServer serves the files below one folder of a build, with the .gz
// copy that build.sh wrote when the client accepts gzip.
type fileServer struct {
	fsys   fs.FS
	root   string
	hidden map[string]bool

	mu    sync.Mutex
	etags map[string]string // by file path, computed on first use
}

func newFileServer(fsys fs.FS, root string, hidden map[string]bool) *fileServer {
	return &fileServer{fsys: fsys, root: root, hidden: hidden, etags: map[string]string{}}
}

func (l *Lab) serveStatic(w http.ResponseWriter, r *http.Request) {
	if l.staticFiles == nil {
		http.NotFound(w, r)
		return
	}
	l.staticFiles.serve(w, r, r.PathValue("path"))
}

func (l *Lab) serveTheme(w http.ResponseWriter, r *http.Request) {
	if l.themeFiles == nil {
		http.NotFound(w, r)
		return
	}
	l.themeFiles.serve(w, r, r.PathValue("path"))
}

// serve writes the file name, relative to the server's root. Files whose URL
// has a ?v= query or whose name carries a content hash are cached for a
// year; other files are revalidated with their ETag on every use.
func (s *fileServer) serve(w http.ResponseWriter, r *http.Request, name string) {
	if !fs.ValidPath(name) || name == "." || s.hidden[name] || strings.HasSuffix(name, ".gz") {
		http.NotFound(w, r)
		return
	}
	full := path.Join(s.root, name)
	info, err := fs.Stat(s.fsys, full)
	if err != nil || info.IsDir() {
		http.NotFound(w, r)
		return
	}

	h := w.Header()
	h.Set("Content-Type", contentType(name))
	if r.URL.Query().Has("v") || hashedName().MatchString(path.Base(name)) {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}

	served := full
	if _, err := fs.Stat(s.fsys, full+".gz"); err == nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			served = full + ".gz"
			h.Set("Content-Encoding", "gzip")
		}
	}
	if err := s.writeFile(w, r, served); err != nil {
		for _, key := range []string{"Content-Encoding", "Cache-Control", "ETag", "Vary"} {
			h.Del(key)
		}
		http.Error(w, "500 internal server error: cannot read "+name, http.StatusInternalServerError)
	}
}

// writeFile sends one file with http.ServeContent, which handles HEAD,
// Range and If-None-Match.
func (s *fileServer) writeFile(w http.ResponseWriter, r *http.Request, name string) error {
	content, err := s.open(name)
	if err != nil {
		return err
	}
	if closer, ok := content.(io.Closer); ok {
		defer closer.Close()
	}
	etag, err := s.etag(name)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag)
	http.ServeContent(w, r, name, time.Time{}, content)
	return nil
}

// open returns the file as an io.ReadSeeker, reading it into memory when
// the file system's files cannot seek.
func (s *fileServer) open(name string) (io.ReadSeeker, error) {
	f, err := s.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	if rs, ok := f.(io.ReadSeeker); ok {
		return rs, nil
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return bytes.NewReader(data), nil
}

// etag returns a strong ETag derived from the file's content. Build output
// does not change while the server runs, so each is computed once.
func (s *fileServer) etag(name string) (string, error) {
	s.mu.Lock()
	tag, ok := s.etags[name]
	s.mu.Unlock()
	if ok {
		return tag, nil
	}
	f, err := s.fsys.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sum := sha256.New()
	if _, err := io.Copy(sum, f); err != nil {
		return "", fmt.Errorf("hashing %s: %w", name, err)
	}
	tag = `"` + hex.EncodeToString(sum.Sum(nil)[:12]) + `"`
	s.mu.Lock()
	s.etags[name] = tag
	s.mu.Unlock()
	return tag, nil
}

// acceptsGzip reports whether an Accept-Encoding header value allows gzip:
// gzip, x-gzip or * with a q-value above zero (RFC 9110, section 12.5.3).
// An explicit gzip entry takes precedence over *.
func acceptsGzip(header string) bool {
	star := false
	for _, item := range strings.Split(header, ",") {
		coding, q, err := parseCoding(item)
		if err != nil {
			continue
		}
		switch coding {
		case "gzip", "x-gzip":
			return q > 0
		case "*":
			star = q > 0
		}
	}
	return star
}

// parseCoding parses one Accept-Encoding item such as "gzip;q=0.5". The
// q-value defaults to 1.
func parseCoding(item string) (coding string, q float64, err error) {
	coding, params, _ := strings.Cut(item, ";")
	coding = strings.ToLower(strings.TrimSpace(coding))
	if coding == "" {
		return "", 0, errors.New("empty content coding")
	}
	q = 1
	for _, param := range strings.Split(params, ";") {
		key, value, found := strings.Cut(strings.TrimSpace(param), "=")
		if !found || !strings.EqualFold(strings.TrimSpace(key), "q") {
			continue
		}
		q, err = strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil || q < 0 || q > 1 {
			return "", 0, fmt.Errorf("invalid q-value %q", value)
		}
	}
	return coding, q, nil
}
