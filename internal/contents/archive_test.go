package contents

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ulikunitz/xz"
)

// readArchive returns the entries of a zip or tar archive: the content of
// each file, and "<dir>" for each folder.
func readArchive(t *testing.T, format string, data []byte) map[string]string {
	t.Helper()
	entries := map[string]string{}
	if format == "zip" {
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("reading zip: %v", err)
		}
		for _, f := range zr.File {
			if strings.HasSuffix(f.Name, "/") {
				entries[f.Name] = "<dir>"
				continue
			}
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			content, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatalf("reading %s: %v", f.Name, err)
			}
			entries[f.Name] = string(content)
		}
		return entries
	}

	var r io.Reader = bytes.NewReader(data)
	var err error
	switch format {
	case "tgz", "tar.gz":
		r, err = gzip.NewReader(r)
	case "tbz", "tar.bz2":
		r = bzip2.NewReader(r)
	case "txz", "tar.xz":
		r, err = xz.NewReader(r)
	}
	if err != nil {
		t.Fatalf("decompressing %s: %v", format, err)
	}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return entries
		}
		if err != nil {
			t.Fatalf("reading %s: %v", format, err)
		}
		if hdr.Typeflag == tar.TypeDir {
			entries[hdr.Name] = "<dir>"
			continue
		}
		content, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		entries[hdr.Name] = string(content)
	}
}

// archiveTree fills the root with files that an archive must hold or
// leave out, and returns the entries of an archive of "data".
func archiveTree(s *testServer) map[string]string {
	s.writeFile("data/a.txt", "alpha")
	s.writeFile("data/sub/b.csv", "x,y\n1,2\n")
	s.writeFile("data/.secret", "hidden")
	s.writeFile("data/.config/c", "hidden folder")
	s.writeFile("data/.ipynb_checkpoints/a-checkpoint.txt", "checkpoint")
	s.writeFile("data/__pycache__/m.pyc", "bytecode")
	s.writeFile("outside-data.txt", "linked")
	if err := os.Mkdir(filepath.Join(s.root, "data", "empty"), 0o755); err != nil {
		s.t.Fatal(err)
	}
	for link, target := range map[string]string{
		"data/in-root":  "../outside-data.txt",
		"data/loop":     "..",
		"data/escape":   "/etc",
		"data/dangling": "missing",
	} {
		if err := os.Symlink(target, filepath.Join(s.root, link)); err != nil {
			s.t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(s.root, "data", "bad\xffname"), []byte("x"), 0o644); err != nil {
		s.t.Fatal(err)
	}
	return map[string]string{
		"data/":          "<dir>",
		"data/a.txt":     "alpha",
		"data/empty/":    "<dir>",
		"data/in-root":   "linked",
		"data/sub/":      "<dir>",
		"data/sub/b.csv": "x,y\n1,2\n",
	}
}

func TestArchiveFormats(t *testing.T) {
	s := newTestServer(t, Options{})
	want := archiveTree(s)
	types := map[string]string{
		"zip": "application/zip", "tar": "application/x-tar", "tgz": "application/gzip",
		"tar.gz": "application/gzip", "tbz": "application/x-bzip2", "tar.bz2": "application/x-bzip2",
		"txz": "application/x-xz", "tar.xz": "application/x-xz",
	}
	for format, wantType := range types {
		t.Run(format, func(t *testing.T) {
			resp, body := s.do("GET", "/directories/data?archiveToken=abc&archiveFormat="+format, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if got := resp.Header.Get("Content-Type"); got != wantType {
				t.Errorf("Content-Type = %q, want %q", got, wantType)
			}
			wantDisposition := `attachment; filename="data.` + format + `"; filename*=utf-8''data.` + format
			if got := resp.Header.Get("Content-Disposition"); got != wantDisposition {
				t.Errorf("Content-Disposition = %q, want %q", got, wantDisposition)
			}
			if diff := cmp.Diff(want, readArchive(t, format, body)); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
		})
	}
}

func TestArchiveDefaultsToZipOfRoot(t *testing.T) {
	s := newTestServer(t, Options{})
	s.writeFile("top.txt", "top")
	resp, body := s.do("GET", "/directories/", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	want := map[string]string{"root/": "<dir>", "root/top.txt": "top"}
	if diff := cmp.Diff(want, readArchive(t, "zip", body)); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
}

func TestArchiveOptions(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		query    string
		included []string
		excluded []string
	}{
		{"no symlinks", Options{}, "followSymlinks=false",
			[]string{"data/a.txt"}, []string{"data/in-root", "data/loop/"}},
		{"hidden without allow-hidden", Options{}, "downloadHidden=true",
			[]string{"data/a.txt"}, []string{"data/.secret", "data/.config/c"}},
		{"hidden with allow-hidden", Options{AllowHidden: true}, "downloadHidden=true",
			[]string{"data/.secret", "data/.config/c"}, []string{"data/.ipynb_checkpoints/a-checkpoint.txt"}},
		{"allow-hidden without downloadHidden", Options{AllowHidden: true}, "",
			[]string{"data/a.txt"}, []string{"data/.secret"}},
		{"symlinks outside root allowed", Options{AllowSymlinksOutsideRoot: true}, "archiveFormat=tar",
			[]string{"data/in-root", "data/escape/"}, []string{"data/dangling"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, tt.opts)
			archiveTree(s)
			if tt.opts.AllowSymlinksOutsideRoot {
				// A small folder out of the root, so the archive
				// stays small.
				outside := t.TempDir()
				writeFile(t, filepath.Join(outside, "o.txt"), "outside")
				os.Remove(filepath.Join(s.root, "data", "escape"))
				if err := os.Symlink(outside, filepath.Join(s.root, "data", "escape")); err != nil {
					t.Fatal(err)
				}
			}
			format := "zip"
			if strings.Contains(tt.query, "archiveFormat=tar") {
				format = "tar"
			}
			resp, body := s.do("GET", "/directories/data?"+tt.query, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			entries := readArchive(t, format, body)
			for _, name := range tt.included {
				if _, ok := entries[name]; !ok {
					t.Errorf("archive lacks %s", name)
				}
			}
			for _, name := range tt.excluded {
				if _, ok := entries[name]; ok {
					t.Errorf("archive has %s", name)
				}
			}
		})
	}
}

func TestArchiveBadRequests(t *testing.T) {
	s := newTestServer(t, Options{})
	s.writeFile("data/a.txt", "a")
	s.writeFile(".hidden/x", "x")
	if err := os.Symlink("/etc", filepath.Join(s.root, "etc-link")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path       string
		wantStatus int
		wantText   string
	}{
		{"/directories/data?archiveFormat=rar", 400, `archiveFormat "rar" is not supported`},
		{"/directories/data?followSymlinks=yes", 400, "followSymlinks must be true or false"},
		{"/directories/data?downloadHidden=1", 400, "downloadHidden must be true or false"},
		{"/directories/missing", 404, "does not exist"},
		{"/directories/data/a.txt", 400, "is not a directory"},
		{"/directories/.hidden", 404, "does not exist"},
		{"/directories/data/.ipynb_checkpoints", 404, "does not exist"},
		{"/directories/..%2F..%2Fetc", 404, "outside root"},
		{"/directories/etc-link", 404, "outside root"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			code, message := s.status("GET", tt.path, nil)
			if code != tt.wantStatus {
				t.Errorf("status = %d (%s), want %d", code, message, tt.wantStatus)
			}
			if !strings.Contains(message, tt.wantText) {
				t.Errorf("message = %q, want it to contain %q", message, tt.wantText)
			}
		})
	}
}

// TestArchiveStreams checks that a large archive goes out as it is made:
// the response has no Content-Length, which net/http sets only for a
// body that was complete before the handler returned.
func TestArchiveStreams(t *testing.T) {
	s := newTestServer(t, Options{})
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	for _, name := range []string{"a.bin", "b.bin", "c.bin"} {
		writeFile(t, filepath.Join(s.root, "big", name), string(big))
	}
	req, err := http.NewRequest("GET", s.url+"/directories/big?archiveFormat=tar", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ContentLength != -1 || !slices.Contains(resp.TransferEncoding, "chunked") {
		t.Errorf("ContentLength = %d, TransferEncoding = %v, want a chunked stream",
			resp.ContentLength, resp.TransferEncoding)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	entries := readArchive(t, "tar", body)
	for _, name := range []string{"big/a.bin", "big/b.bin", "big/c.bin"} {
		if entries[name] != string(big) {
			t.Errorf("%s has %d bytes, want %d", name, len(entries[name]), len(big))
		}
	}
}

// TestArchiveCutOnReadError checks that a read error after the response
// started cuts the connection, so the client does not get a short archive
// that looks whole. Reading /proc/self/mem at offset 0 fails with EIO.
func TestArchiveCutOnReadError(t *testing.T) {
	if _, err := os.Stat("/proc/self/mem"); err != nil {
		t.Skip("no /proc/self/mem")
	}
	s := newTestServer(t, Options{AllowSymlinksOutsideRoot: true})
	s.writeFile("data/a.txt", "alpha")
	if err := os.Symlink("/proc/self/mem", filepath.Join(s.root, "data", "mem")); err != nil {
		t.Fatal(err)
	}
	// The cut comes before the headers when they are still buffered, or
	// in the middle of the body.
	resp, err := s.client.Get(s.url + "/directories/data")
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Error("the download ended cleanly after a read error")
	}
}

func TestTarRejectsShrunkFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "f"), "0123456789")
	fi, err := os.Stat(filepath.Join(dir, "f"))
	if err != nil {
		t.Fatal(err)
	}
	aw, err := newArchiveWriter(io.Discard, "")
	if err != nil {
		t.Fatal(err)
	}
	err = aw.AddFile("f", fi, strings.NewReader("01234"))
	if err == nil || !strings.Contains(err.Error(), "shrank from 10 to 5 bytes") {
		t.Errorf("AddFile of a shrunk file = %v, want an error", err)
	}
}
