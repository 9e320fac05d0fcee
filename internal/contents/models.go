package contents

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/jupygo/jupygo/internal/httpapi"
)

// Model is a contents model as jupyter_server's FileContentsManager returns
// it. Content is nil unless requested. Then it is a string for a file, the
// notebook (map[string]any, see ReadNotebook) for a notebook, and []*Model
// without content for a directory.
type Model struct {
	Name          string    `json:"name"`
	Path          string    `json:"path"`
	Type          string    `json:"type"`
	Writable      bool      `json:"writable"`
	Created       Timestamp `json:"created"`
	LastModified  Timestamp `json:"last_modified"`
	Size          *int64    `json:"size"`
	Mimetype      *string   `json:"mimetype"`
	Content       any       `json:"content"`
	Format        *string   `json:"format"`
	Hash          *string   `json:"hash"`
	HashAlgorithm *string   `json:"hash_algorithm"`
}

// Timestamp is a time that encodes in JSON as jupyter_server writes
// datetimes: ISO 8601 in UTC with a Z suffix, microseconds, and no
// fraction when the microseconds are zero.
type Timestamp struct {
	time.Time
}

// MarshalJSON implements json.Marshaler.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return []byte(`"` + t.String() + `"`), nil
}

// String returns the time in ISO 8601, as MarshalJSON writes it.
func (t Timestamp) String() string {
	u := t.UTC().Round(time.Microsecond)
	if u.Nanosecond() == 0 {
		return u.Format("2006-01-02T15:04:05Z")
	}
	return u.Format("2006-01-02T15:04:05.000000Z")
}

const hashAlgorithm = "sha256"

func ptr[T any](v T) *T { return &v }

// baseModel returns the fields that every kind of model shares.
func (m *Manager) baseModel(p string, fi fs.FileInfo) *Model {
	_, name := splitPath(p)
	return &Model{
		Name:         name,
		Path:         p,
		Writable:     m.writable(p),
		Created:      Timestamp{changeTime(fi)},
		LastModified: Timestamp{fi.ModTime()},
		Size:         ptr(fi.Size()),
	}
}

// changeTime returns the inode change time of fi, which jupyter_server
// reports as "created" on Linux.
func changeTime(fi fs.FileInfo) time.Time {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fi.ModTime()
	}
	return time.Unix(st.Ctim.Sec, st.Ctim.Nsec)
}

// writable reports whether the process may write p, as os.access(W_OK).
func (m *Manager) writable(p string) bool {
	return unix.Access(m.osPath(p), unix.W_OK) == nil
}

func setHash(model *Model, sum [sha256.Size]byte) {
	model.Hash = ptr(hex.EncodeToString(sum[:]))
	model.HashAlgorithm = ptr(hashAlgorithm)
}

func (m *Manager) dirModel(p string, fi fs.FileInfo, content bool) (*Model, error) {
	model := m.baseModel(p, fi)
	model.Type = "directory"
	model.Size = nil
	if !content {
		return model, nil
	}
	entries, err := m.list(p)
	if err != nil {
		return nil, err
	}
	model.Content = entries
	model.Format = ptr("json")
	return model, nil
}

// list returns the models of the entries of folder p that a listing shows,
// sorted by name. It leaves out hidden entries (unless
// Options.AllowHidden), the manager's own files, names matched by
// hiddenGlobs, names that are not UTF-8, and entries it cannot stat:
// broken links, links out of the root, and entries it may not read.
func (m *Manager) list(p string) ([]*Model, error) {
	dir, err := m.fsys.Open(m.name(p))
	if err != nil {
		return nil, fsError("listing", p, err)
	}
	defer dir.Close()
	names, err := dir.Readdirnames(-1)
	if err != nil {
		return nil, fsError("listing", p, err)
	}
	slices.Sort(names)

	entries := []*Model{}
	for _, name := range names {
		if !m.listed(name) {
			continue
		}
		child := joinPath(p, name)
		fi, err := m.fsys.Stat(m.name(child))
		if err != nil {
			m.log.Debug("entry left out of listing", "path", child, "err", err)
			continue
		}
		if model := m.entryModel(child, fi); model != nil {
			entries = append(entries, model)
		}
	}
	return entries, nil
}

// hiddenGlobs are the names jupyter_server leaves out of listings by
// default (ContentsManager.hide_globs).
var hiddenGlobs = []string{"__pycache__", "*.pyc", "*.pyo", ".DS_Store", "*.so", "*.dylib", "*~"}

func (m *Manager) listed(name string) bool {
	if isInternalName(name) || !utf8.ValidString(name) {
		return false
	}
	if !m.opts.AllowHidden && strings.HasPrefix(name, ".") {
		return false
	}
	for _, glob := range hiddenGlobs {
		if ok, _ := path.Match(glob, name); ok {
			return false
		}
	}
	return true
}

// entryModel returns the model without content of a listed entry, or nil
// for entries that are neither regular files nor folders.
func (m *Manager) entryModel(p string, fi fs.FileInfo) *Model {
	model := m.baseModel(p, fi)
	switch {
	case fi.IsDir():
		model.Type = "directory"
		model.Size = nil
	case !fi.Mode().IsRegular():
		return nil
	case strings.HasSuffix(p, ".ipynb"):
		model.Type = "notebook"
	default:
		model.Type = "file"
		model.Mimetype = guessMimetype(model.Name)
	}
	return model
}

func (m *Manager) fileModel(p string, fi fs.FileInfo, opt GetOptions) (*Model, error) {
	model := m.baseModel(p, fi)
	model.Type = "file"
	model.Mimetype = guessMimetype(model.Name)
	if !opt.Content && !opt.Hash {
		return model, nil
	}
	data, err := m.readFile(p)
	if err != nil {
		return nil, err
	}
	if opt.Hash {
		setHash(model, sha256.Sum256(data))
	}
	if !opt.Content {
		return model, nil
	}

	format := opt.Format
	if format == "" {
		format = "base64"
		if utf8.Valid(data) {
			format = "text"
		}
	}
	switch format {
	case "text":
		if !utf8.Valid(data) {
			return nil, &httpapi.Error{Status: http.StatusBadRequest,
				Message: quote(p) + " is not UTF-8 encoded", Reason: "bad format"}
		}
		model.Content = string(data)
	case "base64":
		model.Content = encodeBase64Lines(data)
	default:
		return nil, httpapi.Errorf(http.StatusBadRequest, "Format %s is invalid", quote(format))
	}
	model.Format = ptr(format)
	if model.Mimetype == nil {
		model.Mimetype = ptr(map[string]string{
			"text": "text/plain", "base64": "application/octet-stream"}[format])
	}
	return model, nil
}

func (m *Manager) notebookModel(p string, fi fs.FileInfo, opt GetOptions) (*Model, error) {
	model := m.baseModel(p, fi)
	model.Type = "notebook"
	if !opt.Content && !opt.Hash {
		return model, nil
	}
	text, sum, err := m.readNotebookFile(p, opt.Hash || m.notary.anySigned())
	if err != nil {
		return nil, err
	}
	if opt.Hash {
		setHash(model, sum)
	}
	if !opt.Content {
		return model, nil
	}
	nb, plain, err := readNotebook(text)
	if err != nil {
		return nil, httpapi.Wrap(http.StatusBadRequest, err,
			fmt.Sprintf("Unreadable Notebook: %s %v", quote(p), err))
	}
	m.plain.record(p, fi, plain)
	m.notary.markCells(nb, m.notary.check(sum, nb))
	repairCellIDs(nb)
	model.Content = nb
	model.Format = ptr("json")
	return model, nil
}

// readFile returns the bytes of the regular file p. It opens without
// blocking and rejects other kinds of files before reading, so a FIFO
// cannot hang a request.
func (m *Manager) readFile(p string) ([]byte, error) {
	var data []byte
	err := m.readRegular(p, func(f *os.File, size int64) error {
		data = make([]byte, 0, readSize(size))
		_, err := readChunks(f, func(chunk []byte) { data = append(data, chunk...) })
		return err
	})
	return data, err
}

// readNotebookFile returns the text of the regular file p, and its sha256
// when withSum is set. The pieces of the file are hashed while they are in
// the cache, and the text is built without a copy of the whole file in
// between.
func (m *Manager) readNotebookFile(p string, withSum bool) (string, [sha256.Size]byte, error) {
	var text strings.Builder
	var sum [sha256.Size]byte
	err := m.readRegular(p, func(f *os.File, size int64) error {
		text.Grow(readSize(size))
		h := sha256.New()
		_, err := readChunks(f, func(chunk []byte) {
			if withSum {
				h.Write(chunk)
			}
			text.Write(chunk)
		})
		h.Sum(sum[:0])
		return err
	})
	return text.String(), sum, err
}

// readSize is the room to reserve for reading a file that had size bytes
// when it was opened: one more byte lets the read see the end at once.
func readSize(size int64) int {
	const maxReserve = 256 << 20 // a file may shrink, so reserve no more
	return int(min(max(size, 0), maxReserve)) + 1
}

// readRegular opens the regular file p and calls read with it and its
// size. Other kinds of files get a 400, as in jupyter_server.
func (m *Manager) readRegular(p string, read func(f *os.File, size int64) error) error {
	f, fi, err := m.openRegular(m.name(p))
	if errors.Is(err, errNotRegular) {
		return httpapi.Errorf(http.StatusBadRequest, "Cannot read non-file %s", quote(p))
	}
	if err != nil {
		return fsError("reading", p, err)
	}
	defer f.Close()
	if err := read(f, fi.Size()); err != nil {
		return fsError("reading", p, err)
	}
	return nil
}

// errNotRegular is the error of openRegular for a socket, FIFO, device or
// folder.
var errNotRegular = errors.New("not a regular file")

// openRegular opens the regular file name of m.fsys for reading. It opens
// without blocking, so that a FIFO cannot hang a request, and returns
// errNotRegular for every other kind of file. Opening a socket fails with
// ENXIO, which it reports as errNotRegular too.
func (m *Manager) openRegular(name string) (*os.File, fs.FileInfo, error) {
	f, err := m.fsys.OpenFile(name, syscall.O_RDONLY|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ENXIO) {
		return nil, nil, errNotRegular
	}
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, errNotRegular
	}
	return f, fi, nil
}

// encodeBase64Lines encodes data as Python's base64.encodebytes does:
// lines of 76 characters, each ending in a newline.
func encodeBase64Lines(data []byte) string {
	const lineBytes = 57 // 76 characters of base64
	var b strings.Builder
	b.Grow(base64.StdEncoding.EncodedLen(len(data)) + len(data)/lineBytes + 1)
	for len(data) > 0 {
		n := min(lineBytes, len(data))
		b.WriteString(base64.StdEncoding.EncodeToString(data[:n]))
		b.WriteByte('\n')
		data = data[n:]
	}
	return b.String()
}

// decodeBase64 decodes base64 text, ignoring ASCII whitespace such as the
// line breaks of encodeBase64Lines.
func decodeBase64(s string) ([]byte, error) {
	clean := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\r', '\v', '\f':
			return -1
		}
		return r
	}, s)
	return base64.StdEncoding.DecodeString(clean)
}

// pySuffixes and pyEncodings are the tables of Python's mimetypes module
// that turn compound and compressed suffixes into a type and an encoding.
var (
	pySuffixes = map[string]string{
		".svgz": ".svg.gz", ".tgz": ".tar.gz", ".taz": ".tar.gz", ".tz": ".tar.gz",
		".tbz2": ".tar.bz2", ".txz": ".tar.xz",
	}
	pyEncodings = map[string]string{
		".gz": "gzip", ".Z": "compress", ".bz2": "bzip2", ".xz": "xz", ".br": "br",
	}
	// pyTypes holds the types that Python 3.11's mimetypes gives and
	// Go's mime package lacks or spells differently.
	pyTypes = map[string]string{
		".py": "text/x-python", ".md": "text/markdown", ".csv": "text/csv",
		".js": "text/javascript", ".json": "application/json", ".txt": "text/plain",
		".sh": "text/x-sh", ".c": "text/x-csrc", ".h": "text/x-chdr",
		".ipynb": "",
	}
)

// guessType guesses the MIME type and encoding of a file name as Python's
// mimetypes.guess_type does. Either may be "".
func guessType(name string) (mimetype, encoding string) {
	base, ext := pySplitExt(name)
	for {
		full, ok := pySuffixes[ext]
		if !ok {
			full, ok = pySuffixes[strings.ToLower(ext)]
		}
		if !ok {
			break
		}
		base, ext = pySplitExt(base + full)
	}
	enc, ok := pyEncodings[ext]
	if !ok {
		enc, ok = pyEncodings[strings.ToLower(ext)]
	}
	if ok {
		encoding = enc
		base, ext = pySplitExt(base)
	}
	return typeByExtension(ext), encoding
}

func typeByExtension(ext string) string {
	if ext == "" {
		return ""
	}
	for _, e := range []string{ext, strings.ToLower(ext)} {
		if t, ok := pyTypes[e]; ok {
			return t
		}
	}
	t, _, err := mime.ParseMediaType(mime.TypeByExtension(ext))
	if err != nil {
		return ""
	}
	return t
}

// guessMimetype returns the "mimetype" of a file model: the guessed type,
// or nil.
func guessMimetype(name string) *string {
	t, _ := guessType(name)
	if t == "" {
		return nil
	}
	return &t
}
