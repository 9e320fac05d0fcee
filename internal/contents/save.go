package contents

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/jupygo/jupygo/internal/httpapi"
)

// SaveRequest is a model to save, as the body of a contents PUT carries it.
type SaveRequest struct {
	// Type is "notebook", "file" or "directory".
	Type string
	// Format is "text" or "base64" for a file. Notebooks are JSON.
	Format string
	// Content is the notebook (map[string]any with json.Number numbers, see
	// ReadNotebook, or an *EncodedNotebook) or the text or base64 of a file. Nil means the request
	// has no content, which only a directory may omit.
	Content any
	// Chunk places the request in an upload sent in pieces, as
	// jupyter_server's LargeFileManager takes them: 1 for the first piece,
	// -1 for the last, anything else for those between, 0 for a save in
	// one request. The pieces go to a temporary file that replaces the
	// target when the last one arrives.
	Chunk int
	// Hash requests the sha256 of the saved bytes in the returned model.
	Hash bool
}

// Save writes req to apiPath and returns the new model without content.
// Files and notebooks are replaced atomically; a notebook that fails
// ValidateNotebook gives a 400 and leaves the file as it was. A notebook
// saved with every code cell trusted is signed as trusted, and its first
// save creates its checkpoint, as in jupyter_server.
func (m *Manager) Save(apiPath string, req SaveRequest) (*Model, error) {
	p, err := m.cleanPath(apiPath)
	if err != nil {
		return nil, pathError(apiPath, err)
	}
	if !m.visible(p) {
		return nil, httpapi.Errorf(http.StatusBadRequest, "Cannot create file or directory %s", quote(p))
	}
	if req.Type == "" {
		return nil, httpapi.Errorf(http.StatusBadRequest, "No file type provided")
	}
	if req.Content == nil && req.Type != "directory" {
		return nil, httpapi.Errorf(http.StatusBadRequest, "No file content provided")
	}
	if req.Chunk != 0 {
		return m.saveChunk(p, req)
	}

	var data fileData // the bytes saved, none for a folder
	switch req.Type {
	case "notebook":
		data.bytes, err = m.saveNotebook(p, req.Content)
	case "file":
		data, err = fileBytes(p, req.Format, req.Content)
		if err == nil {
			err = m.writeFileFunc(p, data.writeTo)
		}
	case "directory":
		err = m.mkdir(p)
	default:
		err = httpapi.Errorf(http.StatusBadRequest, "Unhandled contents type: %s", req.Type)
	}
	if err != nil {
		return nil, fsError("saving", p, err)
	}
	m.log.Debug("saved", "path", p, "type", req.Type, "size", data.len())

	model, err := m.Get(p, GetOptions{})
	if err != nil {
		return nil, err
	}
	if req.Hash && req.Type != "directory" {
		setHash(model, data.sum256())
	}
	return model, nil
}

// fileData is the bytes of a file to save. The text of a text model stays
// the string that the request gave, so saving it makes no copy. The bytes
// of a base64 model or a notebook are in bytes.
type fileData struct {
	text  string
	bytes []byte
}

func (d fileData) len() int {
	return len(d.text) + len(d.bytes)
}

// writeTo writes the bytes to w.
func (d fileData) writeTo(w io.Writer) error {
	if d.bytes != nil {
		_, err := w.Write(d.bytes)
		return err
	}
	// *os.File writes a string without copying it.
	_, err := io.WriteString(w, d.text)
	return err
}

// sum256 returns the SHA-256 of the bytes. The text is hashed in pieces,
// because the hash has no WriteString and converting the whole text would
// copy it.
func (d fileData) sum256() [sha256.Size]byte {
	if d.bytes != nil {
		return sha256.Sum256(d.bytes)
	}
	h := sha256.New()
	piece := make([]byte, 64<<10)
	for text := d.text; text != ""; {
		n := copy(piece, text)
		h.Write(piece[:n])
		text = text[n:]
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// maxSizeHint bounds the room reserved in advance for a serialized
// notebook.
const maxSizeHint = 256 << 20

func (m *Manager) saveNotebook(p string, content any) ([]byte, error) {
	nb, ok := content.(map[string]any)
	encoded, isEncoded := content.(*EncodedNotebook)
	if isEncoded {
		nb, ok = encoded.nb, true
	}
	if !ok {
		return nil, httpapi.Errorf(http.StatusBadRequest, "notebook content must be a JSON object")
	}
	sizeHint := 0
	if fi, err := m.fsys.Stat(m.name(p)); err != nil || !m.plain.plain(p, fi) {
		if previous := m.previousNotebook(p); previous != nil {
			withLiterals, replaced := keepLiterals(nb, previous)
			if replaced {
				nb, encoded = withLiterals.(map[string]any), nil
			}
		}
	} else {
		// An edited notebook is usually about as long as it was.
		sizeHint = int(min(fi.Size(), maxSizeHint)) * 9 / 8
	}
	if repairCellIDs(nb) {
		encoded = nil
	}
	var data []byte
	var plain bool
	if encoded != nil {
		data, plain = encoded.data, encoded.plain
	} else {
		var err error
		if data, plain, err = writeNotebook(nb, sizeHint); err != nil {
			return nil, httpapi.Wrap(http.StatusBadRequest, err, err.Error())
		}
	}
	if err := m.writeFile(p, data); err != nil {
		return nil, err
	}
	if fi, err := m.fsys.Stat(m.name(p)); err == nil {
		m.plain.record(p, fi, plain)
	}
	if checkCells(nb) {
		m.notary.signBytes(data)
	}
	m.ensureCheckpoint(p)
	return data, nil
}

// previousNotebook returns the notebook that a save of p replaces, or nil
// when there is none or it is unreadable.
func (m *Manager) previousNotebook(p string) map[string]any {
	text, _, err := m.readNotebookFile(p, false)
	if err != nil {
		return nil
	}
	nb, _, err := readNotebook(text)
	if err != nil {
		return nil
	}
	return nb
}

// fileBytes decodes the content of a file model.
func fileBytes(p, format string, content any) (fileData, error) {
	if format != "text" && format != "base64" {
		return fileData{}, httpapi.Errorf(http.StatusBadRequest,
			"Must specify format of file contents as 'text' or 'base64'")
	}
	s, ok := content.(string)
	if !ok {
		return fileData{}, httpapi.Errorf(http.StatusBadRequest, "file content must be a string")
	}
	if format == "text" {
		return fileData{text: s}, nil
	}
	data, err := decodeBase64(s)
	if err != nil {
		return fileData{}, httpapi.Wrap(http.StatusBadRequest, err,
			fmt.Sprintf("Encoding error saving %s: %v", quote(p), err))
	}
	return fileData{bytes: data}, nil
}

// mkdir creates the folder p; an existing folder is fine.
func (m *Manager) mkdir(p string) error {
	err := m.fsys.Mkdir(m.name(p), 0o777)
	if !errors.Is(err, fs.ErrExist) {
		return err
	}
	fi, err := m.fsys.Stat(m.name(p))
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return httpapi.Errorf(http.StatusBadRequest, "Not a directory: %s", quote(p))
	}
	return nil
}

// uploadName returns the name of the temporary file that collects the
// pieces of an upload to name. It depends on name only, so every piece
// finds it.
func uploadName(name string) string {
	sum := sha256.Sum256([]byte(name))
	return uploadPrefix + hex.EncodeToString(sum[:16])
}

// saveChunk stores one piece of an upload in pieces.
func (m *Manager) saveChunk(p string, req SaveRequest) (*Model, error) {
	if req.Type != "file" {
		return nil, httpapi.Errorf(http.StatusBadRequest,
			"File type %q is not supported for large file transfer", req.Type)
	}
	data, err := fileBytes(p, req.Format, req.Content)
	if err != nil {
		return nil, err
	}
	unlock := m.uploads.lock(p)
	defer unlock()

	name, err := m.writeTarget(m.name(p))
	if err != nil {
		return nil, fsError("uploading", p, err)
	}
	dir, err := m.openDir(filepath.Dir(name))
	if err != nil {
		return nil, fsError("uploading", p, err)
	}
	defer dir.Close()
	base, part := filepath.Base(name), uploadName(filepath.Base(name))
	m.trackUpload(p, dir, filepath.Dir(name), part, req.Chunk)

	if err := appendChunk(dir, part, req.Chunk, data); err != nil {
		// The upload cannot go on without this piece, so its space is
		// given back.
		_ = unix.Unlinkat(fd(dir), part, 0)
		return nil, chunkError(p, req.Chunk, err)
	}
	if req.Chunk != -1 {
		fi, err := m.fsys.Stat(filepath.Join(filepath.Dir(name), part))
		if err != nil {
			return nil, fsError("uploading", p, err)
		}
		return m.chunkModel(p, dir, part, fi), nil
	}
	if err := finishUpload(dir, part, base); err != nil {
		_ = unix.Unlinkat(fd(dir), part, 0)
		return nil, fsError("uploading", p, err)
	}
	m.log.Info("upload finished", "path", p)
	return m.Get(p, GetOptions{Hash: req.Hash})
}

// appendChunk writes data to the upload file part: a new file for chunk
// 1, the end of the existing one otherwise.
func appendChunk(dir *os.File, part string, chunk int, data fileData) error {
	flags := unix.O_WRONLY | unix.O_APPEND | unix.O_CLOEXEC
	if chunk == 1 {
		flags = unix.O_WRONLY | unix.O_CREAT | unix.O_TRUNC | unix.O_CLOEXEC
	}
	pfd, err := unix.Openat(fd(dir), part, flags, 0o666)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(pfd), part)
	err = data.writeTo(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func chunkError(p string, chunk int, err error) error {
	if chunk != 1 && errors.Is(err, fs.ErrNotExist) {
		return httpapi.Wrap(http.StatusBadRequest, err, fmt.Sprintf(
			"chunk %d of %s continues no upload: send chunk 1 first", chunk, quote(p)))
	}
	return fsError("uploading", p, err)
}

// finishUpload makes the collected upload part the file base: it takes the
// permission of the file it replaces, is fsynced, and is renamed into place.
func finishUpload(dir *os.File, part, base string) error {
	opt, err := targetMode(dir, base)
	if err != nil {
		return err
	}
	pfd, err := unix.Openat(fd(dir), part, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(pfd), part)
	err = fillOpen(f, opt, func(io.Writer) error { return nil })
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := unix.Renameat(fd(dir), part, fd(dir), base); err != nil {
		return fmt.Errorf("renaming upload: %w", err)
	}
	return syncDir(dir)
}

// maxUntitled bounds the numbers that NewUntitled tries.
const maxUntitled = 100000

// NewUntitled creates an empty notebook, file or folder with a fresh name
// in the folder apiPath and returns its model, naming it as jupyter_server
// does: Untitled.ipynb, Untitled1.ipynb, …; untitled<ext>, untitled1<ext>,
// …; Untitled Folder, Untitled Folder 1, …. An empty typ means a notebook
// when ext is ".ipynb" and a file otherwise. Creation never replaces an
// existing entry, even one created at the same moment.
func (m *Manager) NewUntitled(apiPath, typ, ext string) (*Model, error) {
	p, err := m.cleanPath(apiPath)
	if err != nil {
		return nil, pathError(apiPath, err)
	}
	if !m.visible(p) {
		return nil, httpapi.Errorf(http.StatusBadRequest, "Cannot create file or directory %s", quote(p))
	}
	if strings.ContainsAny(ext, "/\x00") {
		return nil, httpapi.Errorf(http.StatusBadRequest, "invalid extension %s", quote(ext))
	}
	if typ == "" {
		typ = "file"
		if ext == ".ipynb" {
			typ = "notebook"
		}
	}
	filename, insert := "", ""
	switch typ {
	case "directory":
		filename, insert = "Untitled Folder"+ext, " "
	case "notebook":
		filename = "Untitled.ipynb"
	case "file":
		filename = "untitled" + ext
	default:
		return nil, httpapi.Errorf(http.StatusBadRequest, "Unexpected model type: %s", quote(typ))
	}

	dir, err := m.openDir(m.name(p))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENOTDIR) {
		return nil, httpapi.Errorf(http.StatusNotFound, "No such directory: %s", quote(p))
	}
	if err != nil {
		return nil, fsError("creating in", p, err)
	}
	defer dir.Close()
	for i := range maxUntitled {
		name := incrementName(filename, insert, i)
		err := m.createUntitled(dir, name, typ)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, fsError("creating", joinPath(p, name), err)
		}
		child := joinPath(p, name)
		if typ == "notebook" {
			m.ensureCheckpoint(child)
		}
		m.log.Info("created", "path", child, "type", typ)
		return m.Get(child, GetOptions{})
	}
	return nil, httpapi.Errorf(http.StatusConflict, "no free untitled name in %s", quote(p))
}

func (m *Manager) createUntitled(dir *os.File, name, typ string) error {
	switch typ {
	case "directory":
		return unix.Mkdirat(fd(dir), name, 0o777)
	case "notebook":
		data, err := WriteNotebook(NewNotebook())
		if err != nil {
			return err
		}
		err = m.createFile(dir, name, writeOptions{perm: 0o666}, func(w io.Writer) error {
			_, err := w.Write(data)
			return err
		})
		if err == nil {
			m.notary.signBytes(data)
		}
		return err
	}
	return m.createFile(dir, name, writeOptions{perm: 0o666}, func(io.Writer) error { return nil })
}

// incrementName returns the i-th candidate name for filename, as
// jupyter_server's increment_filename builds it: insert and i go before the
// extension (the last one for .ipynb, everything from the first dot
// otherwise), and the first candidate is filename itself.
func incrementName(filename, insert string, i int) string {
	base, suffix := filename, ""
	if j := strings.LastIndexByte(filename, '.'); j >= 0 && filename[j+1:] == "ipynb" {
		base, suffix = filename[:j], filename[j:]
	} else if j := strings.IndexByte(filename, '.'); j >= 0 {
		base, suffix = filename[:j], filename[j:]
	}
	if i == 0 {
		return base + suffix
	}
	return fmt.Sprintf("%s%s%d%s", base, insert, i, suffix)
}
