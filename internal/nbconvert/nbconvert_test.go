package nbconvert

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jupygo/jupygo/internal/contents"
)

// testServer is an Exporter and a contents manager on a loopback server.
type testServer struct {
	t        *testing.T
	root     string
	url      string
	exporter *Exporter
}

func newTestServer(t *testing.T, opts Options) *testServer {
	t.Helper()
	root := t.TempDir()
	m, err := contents.New(root, contents.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	opts.Contents = m
	mux := http.NewServeMux()
	m.Register(mux)
	exporter := New(opts)
	exporter.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(exporter.Close)
	return &testServer{t: t, root: root, url: srv.URL, exporter: exporter}
}

func (s *testServer) writeFile(rel, content string) {
	s.t.Helper()
	p := filepath.Join(s.root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// get sends a GET without following redirects.
func (s *testServer) get(path string) (*http.Response, []byte) {
	s.t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := client.Get(s.url + path)
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp, body
}

// formats returns the sorted names that /api/nbconvert lists.
func (s *testServer) formats() []string {
	s.t.Helper()
	resp, body := s.get("/api/nbconvert")
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("GET /api/nbconvert = %d %s", resp.StatusCode, body)
	}
	var list map[string]struct {
		OutputMimetype *string `json:"output_mimetype"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		s.t.Fatalf("GET /api/nbconvert: %v\n%s", err, body)
	}
	var names []string
	for name, f := range list {
		if f.OutputMimetype == nil {
			s.t.Errorf("format %s has no output_mimetype", name)
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// emptyPath returns a PATH with only an empty folder, on which no
// jupyter-nbconvert is found.
func emptyPath(t *testing.T) string {
	return t.TempDir()
}

// fakeNbconvert puts on PATH a jupyter-nbconvert shell script whose body
// is script. The script runs with the arguments --to FORMAT --output-dir
// DIR -- NAME.
func fakeNbconvert(t *testing.T, script string) {
	t.Helper()
	dir := t.TempDir()
	text := "#!/bin/sh\nformat=$2; out=$4; name=$6; stem=${name%.ipynb}\nmkdir -p \"$out\"\n" + script
	if err := os.WriteFile(filepath.Join(dir, "jupyter-nbconvert"), []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+"/usr/bin:/bin")
}

const testNotebook = `{
 "cells": [
  {"cell_type": "markdown", "id": "m1", "metadata": {},
   "attachments": {"dot.png": {"image/png": "iVBORw0KGgo="}},
   "source": ["# Results\n", "\n", "Some *text* <script>inMarkdown()</script> ![dot](attachment:dot.png)"]},
  {"cell_type": "code", "execution_count": 3, "id": "c1", "metadata": {},
   "outputs": [
    {"name": "stdout", "output_type": "stream", "text": ["hello <b>\n"]},
    {"data": {"text/plain": ["2"], "text/html": ["<b>two</b><script>inOutput()</script>"]},
     "execution_count": 3, "metadata": {}, "output_type": "execute_result"},
    {"data": {"image/png": "iVBORw0K\nGgo=\n", "text/plain": ["<Figure>"]}, "metadata": {},
     "output_type": "display_data"},
    {"data": {"image/svg+xml": ["<svg xmlns=\"http://www.w3.org/2000/svg\"><script>inSVG()</script></svg>"]},
     "metadata": {}, "output_type": "display_data"},
    {"data": {"application/javascript": ["inJS()"], "text/plain": ["<JS>"]}, "metadata": {},
     "output_type": "display_data"},
    {"ename": "ValueError", "evalue": "bad", "output_type": "error",
     "traceback": ["\u001b[0;31mValueError\u001b[0m: bad <value>"]}
   ],
   "source": ["print('hello <b>')\n", "1 + 1"]},
  {"cell_type": "raw", "id": "r1", "metadata": {"format": "text/x-python"}, "source": ["raw_line = 1"]}
 ],
 "metadata": {
  "kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"},
  "language_info": {"name": "python", "file_extension": ".py", "mimetype": "text/x-python"}
 },
 "nbformat": 4,
 "nbformat_minor": 5
}
`

func TestFormatsWithoutNbconvert(t *testing.T) {
	t.Setenv("PATH", emptyPath(t))
	s := newTestServer(t, Options{})
	want := []string{"html", "markdown", "script"}
	if diff := cmp.Diff(want, s.formats()); diff != "" {
		t.Errorf("formats (-want +got):\n%s", diff)
	}
	s.writeFile("nb.ipynb", testNotebook)
	resp, body := s.get("/nbconvert/pdf/nb.ipynb")
	if resp.StatusCode != http.StatusNotFound || !bytes.Contains(body, []byte("No exporter for format: pdf")) {
		t.Errorf("GET /nbconvert/pdf = %d %s, want 404 naming the format", resp.StatusCode, body)
	}
}

func TestFormatsListOnlyWorking(t *testing.T) {
	// The fake converts to latex and fails on every other format, as
	// nbconvert does without pandoc or xelatex.
	fakeNbconvert(t, `case $format in
latex) printf 'LATEX of %s\n' "$name" > "$out/$stem.tex" ;;
*) echo "nbconvert.utils.pandoc.PandocMissing: Pandoc wasn't found." >&2; exit 1 ;;
esac
`)
	s := newTestServer(t, Options{})
	want := []string{"html", "latex", "markdown", "script"}
	if diff := cmp.Diff(want, s.formats()); diff != "" {
		t.Errorf("formats (-want +got):\n%s", diff)
	}

	s.writeFile("dir/nb.ipynb", testNotebook)
	resp, body := s.get("/nbconvert/latex/dir/nb.ipynb?download=true")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET latex = %d %s", resp.StatusCode, body)
	}
	if string(body) != "LATEX of nb.ipynb\n" {
		t.Errorf("latex body = %q", body)
	}
	if got := resp.Header.Get("Content-Type"); got != "text/latex; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := resp.Header.Get("Content-Disposition"); !strings.Contains(got, `filename="nb.tex"`) {
		t.Errorf("Content-Disposition = %q, want nb.tex", got)
	}
	if resp, _ := s.get("/nbconvert/pdf/dir/nb.ipynb"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET pdf = %d, want 404 for a format whose probe failed", resp.StatusCode)
	}
}

func TestFormatsListBeforeSlowProbe(t *testing.T) {
	// The probe of latex takes 2 s; the list waits 100 ms.
	fakeNbconvert(t, `[ "$format" = latex ] || exit 1
[ "$name" = probe.ipynb ] && sleep 2
echo tex > "$out/$stem.tex"
`)
	s := newTestServer(t, Options{ListWait: 100 * time.Millisecond})
	if diff := cmp.Diff([]string{"html", "markdown", "script"}, s.formats()); diff != "" {
		t.Errorf("formats during the probe (-want +got):\n%s", diff)
	}
	s.writeFile("nb.ipynb", testNotebook)
	resp, body := s.get("/nbconvert/latex/nb.ipynb")
	if resp.StatusCode != http.StatusOK || string(body) != "tex\n" {
		t.Errorf("export during the probe = %d %q, want it to wait for the probe", resp.StatusCode, body)
	}
	if diff := cmp.Diff([]string{"html", "latex", "markdown", "script"}, s.formats()); diff != "" {
		t.Errorf("formats after the probe (-want +got):\n%s", diff)
	}
}

func TestCloseKillsProbe(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	fakeNbconvert(t, `echo $$ >> `+pidFile+`
sleep 60
`)
	s := newTestServer(t, Options{ListWait: 100 * time.Millisecond})
	s.formats() // starts the probe
	var pids []string
	for range 100 {
		data, _ := os.ReadFile(pidFile)
		if pids = strings.Fields(string(data)); len(pids) == 2 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(pids) != 2 {
		t.Fatalf("probe started %d processes, want 2 at a time", len(pids))
	}

	s.exporter.Close()
	for _, pid := range pids {
		n, err := strconv.Atoi(pid)
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.Kill(n, 0); err == nil {
			t.Errorf("probe process %d still runs after Close", n)
		}
	}
}

func TestExternalFailureAndTimeout(t *testing.T) {
	// The probe notebook converts; real notebooks fail or hang.
	fakeNbconvert(t, `[ "$name" = probe.ipynb ] && { echo ok > "$out/$stem.tex"; exit 0; }
case $stem in
fails) echo "Traceback (most recent call last):" >&2; echo "ValueError: broken template" >&2; exit 1 ;;
hangs) sleep 30 ;;
figures) echo tex > "$out/$stem.tex"; mkdir "$out/${stem}_files"; echo png > "$out/${stem}_files/f.png" ;;
esac
`)
	s := newTestServer(t, Options{Timeout: 500 * time.Millisecond})
	for _, name := range []string{"fails", "hangs", "figures"} {
		s.writeFile(name+".ipynb", testNotebook)
	}

	resp, body := s.get("/nbconvert/latex/fails.ipynb")
	if resp.StatusCode != http.StatusInternalServerError || !bytes.Contains(body, []byte("ValueError: broken template")) {
		t.Errorf("failing conversion = %d %s, want 500 with the error", resp.StatusCode, body)
	}

	start := time.Now()
	resp, body = s.get("/nbconvert/latex/hangs.ipynb")
	if resp.StatusCode != http.StatusInternalServerError || !bytes.Contains(body, []byte("timed out")) {
		t.Errorf("hanging conversion = %d %s, want 500 timed out", resp.StatusCode, body)
	}
	if elapsed := time.Since(start); elapsed > 20*time.Second {
		t.Errorf("hanging conversion took %v: the time limit did not stop it", elapsed)
	}

	resp, body = s.get("/nbconvert/latex/figures.ipynb?download=true")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("conversion with figures = %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if got := resp.Header.Get("Content-Disposition"); !strings.Contains(got, `filename="figures.zip"`) {
		t.Errorf("Content-Disposition = %q", got)
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	slices.Sort(names)
	if diff := cmp.Diff([]string{"figures.tex", "figures_files/f.png"}, names); diff != "" {
		t.Errorf("zip entries (-want +got):\n%s", diff)
	}
}

func TestExportScript(t *testing.T) {
	t.Setenv("PATH", emptyPath(t))
	s := newTestServer(t, Options{})
	s.writeFile("My Notebook.ipynb", testNotebook)
	resp, body := s.get("/nbconvert/script/My%20Notebook.ipynb?download=true")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET = %d %s", resp.StatusCode, body)
	}
	want := "#!/usr/bin/env python\n# coding: utf-8\n\n" +
		"# # Results\n#\n# Some *text* <script>inMarkdown()</script> ![dot](attachment:dot.png)\n\n\n" +
		"# In[3]:\n\n\nprint('hello <b>')\n1 + 1\n\n\n" +
		"raw_line = 1\n\n\n"
	if diff := cmp.Diff(want, string(body)); diff != "" {
		t.Errorf("script (-want +got):\n%s", diff)
	}
	headers := map[string]string{
		"Content-Type":        "text/x-python; charset=utf-8",
		"Content-Disposition": `attachment; filename="My Notebook.py"; filename*=utf-8''My%20Notebook.py`,
	}
	for key, want := range headers {
		if got := resp.Header.Get(key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
}

func TestExportScriptLanguages(t *testing.T) {
	tests := []struct {
		name, languageInfo, wantExt, wantType, wantComment string
	}{
		{"r", `{"name": "R", "file_extension": ".r", "mimetype": "text/x-r-source"}`,
			".r", "text/x-r-source", "# # Results"},
		{"javascript", `{"name": "javascript", "file_extension": ".js", "mimetype": "application/javascript"}`,
			".js", "application/javascript", "// # Results"},
		{"unsafe extension", `{"name": "python", "file_extension": ".py\"; x=1", "mimetype": "text/x-python"}`,
			".txt", "text/x-python", "# # Results"},
		{"missing", `{}`, ".txt", "text/plain", ""},
	}
	t.Setenv("PATH", emptyPath(t))
	s := newTestServer(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nb := strings.Replace(testNotebook,
				`"language_info": {"name": "python", "file_extension": ".py", "mimetype": "text/x-python"}`,
				`"language_info": `+tt.languageInfo, 1)
			nb = strings.Replace(nb, `"language": "python"`, `"language": ""`, 1)
			s.writeFile("lang.ipynb", nb)
			resp, body := s.get("/nbconvert/script/lang.ipynb?download=true")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET = %d %s", resp.StatusCode, body)
			}
			if got := resp.Header.Get("Content-Disposition"); !strings.Contains(got, `filename="lang`+tt.wantExt+`"`) {
				t.Errorf("Content-Disposition = %q, want extension %s", got, tt.wantExt)
			}
			if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, tt.wantType) {
				t.Errorf("Content-Type = %q, want %s", got, tt.wantType)
			}
			if !strings.Contains(string(body), "print('hello <b>')\n1 + 1\n") {
				t.Errorf("script lacks the code cell:\n%s", body)
			}
			hasComment := tt.wantComment != "" && strings.Contains(string(body), tt.wantComment)
			if tt.wantComment != "" && !hasComment {
				t.Errorf("script lacks the markdown comment %q:\n%s", tt.wantComment, body)
			}
			if tt.wantComment == "" && strings.Contains(string(body), "Results") {
				t.Errorf("script of an unknown language has the markdown cell:\n%s", body)
			}
		})
	}
}

func TestExportMarkdown(t *testing.T) {
	t.Setenv("PATH", emptyPath(t))
	s := newTestServer(t, Options{})
	s.writeFile("nb.ipynb", testNotebook)
	resp, body := s.get("/nbconvert/markdown/nb.ipynb?download=true")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET = %d %s", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Content-Type"); got != "text/markdown; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := resp.Header.Get("Content-Disposition"); !strings.Contains(got, `filename="nb.md"`) {
		t.Errorf("Content-Disposition = %q", got)
	}
	for _, want := range []string{
		"# Results\n\nSome *text*",
		"![dot](data:image/png;base64,iVBORw0KGgo=)",
		"```python\nprint('hello <b>')\n1 + 1\n```",
		"    hello <b>",
		"<b>two</b>",
		"![png](data:image/png;base64,iVBORw0KGgo=)",
		"![svg+xml](data:image/svg+xml;base64,",
		"    ValueError: bad <value>",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("markdown lacks %q:\n%s", want, body)
		}
	}
	if bytes.ContainsRune(body, 0x1b) {
		t.Error("markdown keeps ANSI escapes")
	}
}

func TestExportHTML(t *testing.T) {
	t.Setenv("PATH", emptyPath(t))
	s := newTestServer(t, Options{})
	s.writeFile("nb.ipynb", testNotebook)
	resp, body := s.get("/nbconvert/html/nb.ipynb")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET = %d %s", resp.StatusCode, body)
	}
	page := string(body)
	if got := resp.Header.Get("Content-Disposition"); got != "" {
		t.Errorf("Content-Disposition = %q without download=true", got)
	}
	if got := resp.Header.Get("Content-Security-Policy"); !strings.Contains(got, "sandbox allow-scripts") ||
		strings.Contains(got, "allow-same-origin") {
		t.Errorf("Content-Security-Policy = %q, want a sandbox without the server's origin", got)
	}
	for _, want := range []string{
		"<!DOCTYPE html>",
		"<title>nb</title>",
		"<h1>Results</h1>",
		`<img src="data:image/png;base64,iVBORw0KGgo=" alt="dot">`,
		"print(&#39;hello &lt;b&gt;&#39;)\n1 + 1",
		`<pre class="stream">hello &lt;b&gt;`,
		"<b>two</b><script>inOutput()</script>",
		`<img alt="output" src="data:image/png;base64,iVBORw0KGgo=">`,
		`src="data:image/svg+xml;base64,`,
		"<script>inJS()</script>",
		`<span style="color:#e75c58">ValueError</span>: bad &lt;value&gt;`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// The page loads nothing from elsewhere; the SVG's namespace URL is
	// inside its base64.
	for _, unwanted := range []string{"\x1b", "<script>inSVG", "raw_line", "https://"} {
		if strings.Contains(page, unwanted) {
			t.Errorf("page contains %q", unwanted)
		}
	}

	_, body = s.get("/nbconvert/html/nb.ipynb?download=true&sanitize_html=true")
	page = string(body)
	// The text between the omitted tags of a markdown cell stays as text.
	for _, unwanted := range []string{"<script", "inJS()", "inOutput()"} {
		if strings.Contains(page, unwanted) {
			t.Errorf("sanitized page contains %q", unwanted)
		}
	}
	// The HTML output shows its text/plain representation instead.
	for _, want := range []string{"<pre>2</pre>", "<h1>Results</h1>", "data:image/png;base64,iVBORw0KGgo="} {
		if !strings.Contains(page, want) {
			t.Errorf("sanitized page lacks %q", want)
		}
	}
}

func TestExportBadInput(t *testing.T) {
	t.Setenv("PATH", emptyPath(t))
	s := newTestServer(t, Options{})
	s.writeFile("broken.ipynb", `{"cells": [`)
	s.writeFile("v5.ipynb", `{"cells": [], "metadata": {}, "nbformat": 5, "nbformat_minor": 0}`)
	s.writeFile("array.ipynb", `[1, 2]`)
	s.writeFile("folder/a.txt", "a")
	s.writeFile(".hidden.ipynb", testNotebook)
	if err := syscall.Mkfifo(filepath.Join(s.root, "fifo.ipynb"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.writeFile("bad-cells.ipynb", `{"cells": [{"cell_type": "code", "source": 7, "outputs": [3]}],
		"metadata": {}, "nbformat": 4, "nbformat_minor": 5}`)
	// odd.ipynb passes the reader but has values of unexpected types
	// where the exporters look.
	s.writeFile("odd.ipynb", `{"cells": [
		{"cell_type": "heading", "id": "h", "metadata": {}, "source": "old"},
		{"cell_type": "code", "id": "c", "metadata": {}, "source": "x", "execution_count": null,
		 "outputs": [{"output_type": "unknown"}, {"output_type": "error", "ename": "E", "evalue": "v", "traceback": []},
		  {"output_type": "display_data", "metadata": {}, "data": {"image/png": 5, "text/plain": ["\u001b[38;5;300m\u001b["]}}]}],
		"metadata": {"language_info": [], "title": 5, "kernelspec": "k"}, "nbformat": 4, "nbformat_minor": 5}`)
	tests := []struct {
		path       string
		wantStatus int
		wantText   string
	}{
		{"/nbconvert/html/broken.ipynb", 400, "Unreadable Notebook"},
		{"/nbconvert/script/v5.ipynb", 400, "unsupported nbformat version 5"},
		{"/nbconvert/markdown/array.ipynb", 400, "must be a JSON object"},
		{"/nbconvert/html/missing.ipynb", 404, "does not exist"},
		{"/nbconvert/html/fifo.ipynb", 400, "Cannot read non-file"},
		{"/nbconvert/html/folder", 400, "is a directory, not a notebook"},
		{"/nbconvert/html/.hidden.ipynb", 404, "does not exist"},
		{"/nbconvert/html/..%2F..%2Fetc%2Fpasswd", 404, "outside root"},
		{"/nbconvert/html/bad-cells.ipynb", 400, "cells[0].outputs[0] must be an object"},
		{"/nbconvert/docx/odd.ipynb", 404, "No exporter for format: docx"},
		{"/nbconvert/html/folder/a.txt", 302, ""},
		{"/nbconvert/html/odd.ipynb", 200, "<!DOCTYPE html>"},
		{"/nbconvert/script/odd.ipynb", 200, ""},
		{"/nbconvert/markdown/odd.ipynb", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := s.get(tt.path)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d %s, want %d", resp.StatusCode, body, tt.wantStatus)
			}
			if !strings.Contains(string(body), tt.wantText) {
				t.Errorf("body = %s, want it to contain %q", body, tt.wantText)
			}
			if tt.wantStatus >= 400 && resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("error Content-Type = %q, want application/json", resp.Header.Get("Content-Type"))
			}
		})
	}
	resp, _ := s.get("/nbconvert/html/folder/a.txt")
	if got := resp.Header.Get("Location"); got != "/files/folder/a.txt" {
		t.Errorf("redirect of a plain file = %q, want /files/folder/a.txt", got)
	}
}

// TestRealNbconvert checks with the jupyter-nbconvert on PATH, when there
// is one, that every format the server lists converts a notebook.
func TestRealNbconvert(t *testing.T) {
	if _, err := exec.LookPath("jupyter-nbconvert"); err != nil {
		t.Skip("jupyter-nbconvert is not installed (Debian package jupyter-nbconvert)")
	}
	s := newTestServer(t, Options{})
	s.writeFile("nb.ipynb", testNotebook)
	formats := s.formats()
	t.Logf("formats on this machine: %v", formats)
	for _, name := range formats {
		resp, body := s.get("/nbconvert/" + name + "/nb.ipynb?download=true")
		if resp.StatusCode != http.StatusOK || len(body) == 0 {
			t.Errorf("listed format %s: status %d, %d bytes: %.300s", name, resp.StatusCode, len(body), body)
			continue
		}
		if got := resp.Header.Get("Content-Disposition"); !strings.Contains(got, `filename="nb.`) {
			t.Errorf("format %s: Content-Disposition = %q", name, got)
		}
	}
}

func TestErrorText(t *testing.T) {
	tests := []struct{ name, stderr, want string }{
		{"pandoc missing", "[NbConvertApp] Converting notebook probe.ipynb to rst\n" +
			"Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>\n" +
			"nbconvert.utils.pandoc.PandocMissing: Pandoc wasn't found.\n" +
			"Please check that pandoc is installed:\nhttps://pandoc.org/installing.html\n",
			"nbconvert.utils.pandoc.PandocMissing: Pandoc wasn't found. " +
				"Please check that pandoc is installed: https://pandoc.org/installing.html"},
		{"value error", "Traceback (most recent call last):\nValueError: bad template\n",
			"ValueError: bad template"},
		{"plain", "something went wrong\n\n", "something went wrong"},
		{"empty", "", "no error output"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errorText(tt.stderr); got != tt.want {
				t.Errorf("errorText = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRenderMarkdownKeepsMath(t *testing.T) {
	tests := []struct{ name, source, want string }{
		{"inline", "Energy $E_1 = m_2 c^2$ and *bold*",
			"<p>Energy $E_1 = m_2 c^2$ and <em>bold</em></p>\n"},
		{"display", "$$\na_1 < b_2\n$$", "<p>$$\na_1 &lt; b_2\n$$</p>\n"},
		{"placeholder in source", "jupygomath0end $x_1$ _y_",
			"<p>jupygomath0end $x_1$ <em>y</em></p>\n"},
		{"code span", "`$a_b$`", "<p><code>$a_b$</code></p>\n"},
		{"lone dollar", "costs $5 and _more_", "<p>costs $5 and <em>more</em></p>\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := renderMarkdown(tt.source, nil, false); got != tt.want {
				t.Errorf("renderMarkdown(%q) = %q, want %q", tt.source, got, tt.want)
			}
		})
	}
}

func TestRenderMarkdownGFM(t *testing.T) {
	png := map[string]any{"dot.png": map[string]any{"image/png": "iVBORw0KGgo="}}
	tests := []struct {
		name, source string
		attachments  map[string]any
		withoutHTML  bool
		want         []string
		unwanted     []string
	}{
		{name: "table", source: "| a | b |\n|---|:-:|\n| 1 | 2 |",
			want: []string{"<table>", "<th>a</th>", `<td align="center">2</td>`}},
		{name: "strikethrough", source: "~~gone~~", want: []string{"<del>gone</del>"}},
		{name: "autolink", source: "see https://example.com/x.",
			want: []string{`<a href="https://example.com/x">https://example.com/x</a>.`}},
		{name: "task list", source: "- [ ] todo\n- [x] done",
			want: []string{`<li><input disabled="" type="checkbox"> todo</li>`,
				`<li><input checked="" disabled="" type="checkbox"> done</li>`}},
		{name: "attachment", source: "![dot](attachment:dot.png)", attachments: png,
			want: []string{`<img src="data:image/png;base64,iVBORw0KGgo=" alt="dot">`}},
		{name: "raw HTML kept", source: "<div><b>raw</b></div>", want: []string{"<div><b>raw</b></div>"}},
		{name: "raw HTML omitted", source: "<script>x()</script>\n\ntext <b>bold</b>", withoutHTML: true,
			want: []string{"<p>text bold</p>"}, unwanted: []string{"<script", "<b>"}},
		{name: "script link omitted", source: "[link](javascript:alert(1))", withoutHTML: true,
			unwanted: []string{"javascript:"}},
		{name: "attachment kept without HTML", source: "![dot](attachment:dot.png)", attachments: png,
			withoutHTML: true, want: []string{`src="data:image/png;base64,iVBORw0KGgo="`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := renderMarkdown(tt.source, tt.attachments, tt.withoutHTML)
			for _, want := range tt.want {
				if !strings.Contains(got, want) {
					t.Errorf("renderMarkdown(%q) = %q, lacks %q", tt.source, got, want)
				}
			}
			for _, unwanted := range tt.unwanted {
				if strings.Contains(got, unwanted) {
					t.Errorf("renderMarkdown(%q) = %q, contains %q", tt.source, got, unwanted)
				}
			}
		})
	}
}

func TestStripANSI(t *testing.T) {
	tests := []struct{ name, input, want string }{
		{"colors", "\x1b[0;31mValueError\x1b[0m: bad", "ValueError: bad"},
		{"title ended by BEL", "\x1b]0;title\ax", "x"},
		{"hyperlink ended by ST", "a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b", "alinkb"},
		{"charset", "\x1b(Bplain", "plain"},
		{"cut off", "text\x1b[31", "text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stripANSI(tt.input); got != tt.want {
				t.Errorf("stripANSI(%q) = %q, want %q", tt.input, got, tt.want)
			}
		})
	}
}

// An export waits while maxConcurrentExports others hold their slots, and
// runs once one is free.
func TestExportWaitsForSlot(t *testing.T) {
	t.Setenv("PATH", emptyPath(t))
	s := newTestServer(t, Options{})
	s.writeFile("a.ipynb", testNotebook)
	for range maxConcurrentExports {
		s.exporter.slots <- struct{}{}
	}
	done := make(chan int, 1)
	go func() {
		resp, err := http.Get(s.url + "/nbconvert/script/a.ipynb")
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	select {
	case status := <-done:
		t.Fatalf("export finished with %d while every slot was taken", status)
	case <-time.After(200 * time.Millisecond):
	}
	<-s.exporter.slots
	if status := <-done; status != http.StatusOK {
		t.Errorf("export after a slot was freed = %d, want 200", status)
	}
}
