// Package nbconvert exports notebooks to other formats for JupyterLab's
// "File > Save and Export Notebook As" menu, through the endpoints of
// jupyter_server's nbconvert handlers:
//
//   - GET /api/nbconvert lists the formats, as an object that maps each
//     name to {"output_mimetype": ...}.
//   - GET /nbconvert/{format}/{path}?download=true returns the notebook at
//     path converted, as an attachment when download is true.
//
// The script, markdown and html formats are converted here, in Go. Other
// formats (latex, pdf, rst, asciidoc, slides, webpdf) are converted by
// running jupyter-nbconvert, and are listed only when a probe conversion
// succeeded on this machine (see external).
package nbconvert

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jupygo/jupygo/internal/contents"
	"github.com/jupygo/jupygo/internal/httpapi"
	"github.com/jupygo/jupygo/internal/lazy"
)

// Options configures an Exporter.
type Options struct {
	// Log receives the exporter's events. Nil discards them.
	Log *slog.Logger
	// Contents reads the notebooks, with its rules for paths, hidden files
	// and symbolic links.
	Contents *contents.Manager
	// Command is the program that converts to the formats not converted
	// in Go, looked up on PATH. "" means "jupyter-nbconvert".
	Command string
	// Timeout limits each run of Command. Zero means two minutes.
	Timeout time.Duration
	// ListWait is how long GET /api/nbconvert waits for the probe of
	// Command's formats to finish, after which it lists the formats found
	// so far. JupyterLab requests the list once per page load. Zero means 10 seconds.
	ListWait time.Duration
}

// Exporter serves the nbconvert endpoints. It is safe for concurrent use.
type Exporter struct {
	log      *slog.Logger
	contents *contents.Manager
	external *external
	listWait time.Duration
	// slots holds a token for each export that is reading or converting
	// a notebook.
	slots chan struct{}
}

// maxConcurrentExports bounds the exports that read and convert notebooks
// at once; others wait for a slot. An export holds the parsed notebook and
// its output in memory, several times the file's size: an HTML export of
// a 101 MB notebook peaked at 776 MiB, so four at once took 2.5 GB.
const maxConcurrentExports = 2

var nativeFormatsValue lazy.Value[map[string]string]

// nativeFormats returns a map from the formats converted in Go to their output
// mimetype. The script's mimetype depends on the notebook, and nbconvert lists
// it as text/plain too.
func nativeFormats() map[string]string {
	return nativeFormatsValue.Get(func() map[string]string {
		return map[string]string{
			"html":     "text/html",
			"markdown": "text/markdown",
			"script":   "text/plain",
		}
	})
}

// New returns an Exporter. It runs no program until a client asks for the
// formats or for an export to a format that is not converted in Go.
func New(opts Options) *Exporter {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Command == "" {
		opts.Command = "jupyter-nbconvert"
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Minute
	}
	if opts.ListWait <= 0 {
		opts.ListWait = 10 * time.Second
	}
	return &Exporter{
		log:      opts.Log,
		contents: opts.Contents,
		external: newExternal(opts.Command, opts.Timeout, opts.Log),
		listWait: opts.ListWait,
		slots:    make(chan struct{}, maxConcurrentExports),
	}
}

// Close kills the jupyter-nbconvert processes that are running and waits
// for the probe of formats to end. Later exports to those formats fail.
func (e *Exporter) Close() {
	e.external.Close()
}

// Register adds the endpoints to mux, with patterns that start at the
// server's root. The caller strips its base URL, authenticates the request
// and checks that a browser sent it from a page of this server.
func (e *Exporter) Register(mux httpapi.Router) {
	mux.Handle("GET /api/nbconvert", httpapi.Handle(e.log, e.serveFormats))
	mux.Handle("GET /nbconvert/{format}/{path...}", httpapi.HandlePage(e.log, e.serveExport))
}

func (e *Exporter) serveFormats(w http.ResponseWriter, r *http.Request) error {
	external, complete := e.external.Formats(r.Context(), e.listWait)
	if !complete {
		e.log.Info("listing nbconvert formats before the probe finished",
			"request_id", httpapi.RequestID(r.Context()), "found", len(external))
	}
	list := map[string]any{}
	for _, formats := range []map[string]string{external, nativeFormats()} {
		for name, mimetype := range formats {
			list[name] = map[string]string{"output_mimetype": mimetype}
		}
	}
	return httpapi.WriteJSON(w, http.StatusOK, list)
}

var formatNameValue lazy.Value[*regexp.Regexp]

// formatName returns a regular expression, compiled on first use, that matches
// the format segment that jupyter_server routes.
func formatName() *regexp.Regexp {
	return formatNameValue.Get(func() *regexp.Regexp { return regexp.MustCompile(`^\w+$`) })
}

// export is the result of one conversion.
type export struct {
	name     string // file name for Content-Disposition
	mimetype string
	data     []byte
}

func (e *Exporter) serveExport(w http.ResponseWriter, r *http.Request) error {
	formatArg := r.PathValue("format")
	apiPath := strings.Trim(r.PathValue("path"), "/")
	external, err := e.isExternal(r, formatArg)
	if err != nil {
		return err
	}

	select {
	case e.slots <- struct{}{}:
		defer func() { <-e.slots }()
	case <-r.Context().Done():
		return r.Context().Err()
	}
	model, err := e.contents.Get(apiPath, contents.GetOptions{Content: true})
	if err != nil {
		return err
	}
	switch model.Type {
	case "directory":
		return httpapi.Errorf(http.StatusBadRequest,
			"cannot export '%s': it is a directory, not a notebook", apiPath)
	case "file":
		// As in jupyter_server: other files are served as they are.
		files := &url.URL{Path: "files/" + apiPath}
		http.Redirect(w, r, httpapi.BaseURL(r)+files.EscapedPath(), http.StatusFound)
		return nil
	}
	nb, _ := model.Content.(map[string]any)
	stem := strings.TrimSuffix(model.Name, ".ipynb")

	var out *export
	if external {
		out, err = e.convertExternal(r, formatArg, model.Name, nb)
	} else {
		out, err = convertNative(formatArg, stem, nb, r.URL.Query().Get("sanitize_html") == "true")
	}
	if err != nil {
		return err
	}
	writeExport(w, r, out, model.LastModified.Time)
	return nil
}

// isExternal reports whether formatArg is converted by jupyter-nbconvert.
// It returns a 404 for a format that is not available.
func (e *Exporter) isExternal(r *http.Request, formatArg string) (bool, error) {
	if _, ok := nativeFormats()[formatArg]; ok {
		return false, nil
	}
	if formatName().MatchString(formatArg) {
		formats, complete := e.external.Formats(r.Context(), 0)
		if _, ok := formats[formatArg]; ok {
			return true, nil
		}
		if !complete {
			return false, httpapi.Wrap(http.StatusServiceUnavailable, r.Context().Err(),
				"the request ended before the formats of jupyter-nbconvert were known")
		}
	}
	return false, httpapi.Errorf(http.StatusNotFound,
		"No exporter for format: %s (available: %s)", formatArg, e.formatList(r))
}

// convertNative converts nb, the notebook named stem.ipynb, to one of
// nativeFormats.
func convertNative(formatArg, stem string, nb map[string]any, sanitizeHTML bool) (*export, error) {
	parsed := parseNotebook(nb)
	switch formatArg {
	case "script":
		return &export{name: stem + parsed.Language.Extension, mimetype: parsed.Language.Mimetype,
			data: exportScript(parsed)}, nil
	case "markdown":
		return &export{name: stem + ".md", mimetype: "text/markdown", data: exportMarkdown(parsed)}, nil
	case "html":
		opts := htmlOptions{Title: parsed.title(stem), Sanitize: sanitizeHTML}
		return &export{name: stem + ".html", mimetype: "text/html", data: exportHTML(parsed, opts)}, nil
	}
	return nil, fmt.Errorf("no native exporter for %s", formatArg)
}

func (e *Exporter) convertExternal(r *http.Request, formatArg, name string, nb map[string]any) (*export, error) {
	data, err := contents.WriteNotebook(nb)
	if err != nil {
		return nil, httpapi.Wrap(http.StatusBadRequest, err, "notebook is not valid: "+err.Error())
	}
	outName, out, err := e.external.Convert(r.Context(), formatArg, name, data)
	if errors.Is(err, errTimeout) {
		return nil, httpapi.Wrap(http.StatusInternalServerError, err,
			fmt.Sprintf("nbconvert failed: converting to %s %v", formatArg, err))
	}
	if err != nil {
		return nil, httpapi.Wrap(http.StatusInternalServerError, err, "nbconvert failed: "+err.Error())
	}
	mimetype := externalFormats()[formatArg]
	if path.Ext(outName) == ".zip" {
		mimetype = "application/zip"
	}
	return &export{name: outName, mimetype: mimetype, data: out}, nil
}

// exportCSP confines an HTML export shown in the browser to an opaque
// origin: its scripts run, as nbconvert's page would run them, but cannot
// act as the user on the server.
const exportCSP = "sandbox allow-scripts; frame-ancestors 'self'"

// writeExport sends an export: as an attachment when the request is for a
// download, and always with a Content-Security-Policy that keeps
// active HTML out of the server's origin.
func writeExport(w http.ResponseWriter, r *http.Request, out *export, modified time.Time) {
	h := w.Header()
	if r.URL.Query().Get("download") == "true" {
		h.Set("Content-Disposition", contents.ContentDisposition(out.name))
	}
	contentType := out.mimetype
	if strings.HasPrefix(contentType, "text/") {
		contentType = mime.FormatMediaType(contentType, map[string]string{"charset": "utf-8"})
	}
	h.Set("Content-Type", contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", exportCSP)
	h.Set("Cache-Control", "no-store, no-cache, must-revalidate, max-age=0")
	if !modified.IsZero() {
		h.Set("Last-Modified", modified.UTC().Format(http.TimeFormat))
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(out.data)
	}
}

// formatList names the available formats for an error message.
func (e *Exporter) formatList(r *http.Request) string {
	names := map[string]string{}
	maps.Copy(names, nativeFormats())
	formats, _ := e.external.Formats(r.Context(), 0)
	maps.Copy(names, formats)
	return strings.Join(slices.Sorted(maps.Keys(names)), ", ")
}
