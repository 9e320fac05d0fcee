package collab

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jupygo/jupygo/internal/contents"
)

// Files is the part of the contents manager that rooms use. Errors that a client
// should see are *httpapi.Error values, whose status picks the close code
// of a room that fails to load.
type Files interface {
	// Stat returns the file's information without its hash.
	Stat(path string) (FileInfo, error)
	// Read returns the file's bytes and information.
	Read(path string) ([]byte, FileInfo, error)
	// Write replaces the file's bytes atomically with content, a document
	// of type docType, and returns the new information.
	Write(path, docType string, content Content) (FileInfo, error)
}

// Content is a file that a room saves: its bytes, and for a notebook the
// notebook they encode, which the contents manager then saves without
// parsing the bytes.
type Content struct {
	Bytes    []byte
	Notebook *contents.EncodedNotebook
}

// FileInfo is the part of a contents model that rooms use.
type FileInfo struct {
	ModTime  time.Time
	Writable bool
	IsDir    bool
	// Hash is the sha256 hex digest of the bytes, as /api/contents?hash=1
	// returns it; Stat leaves it empty.
	Hash string
	// Signed is set by Read for a notebook (.ipynb) that this server
	// signed. A room marks the code cells of a notebook trusted when it is
	// set and untrusted when it is not.
	Signed bool
}

// ContentsFiles returns the Files of a contents manager, which reads and
// writes through the same checks and atomic writer as /api/contents.
func ContentsFiles(m *contents.Manager) Files { return contentsFiles{m} }

type contentsFiles struct{ m *contents.Manager }

func (f contentsFiles) Stat(path string) (FileInfo, error) {
	model, err := f.m.Get(path, contents.GetOptions{})
	if err != nil {
		return FileInfo{}, err
	}
	return infoOf(model), nil
}

func (f contentsFiles) Read(path string) ([]byte, FileInfo, error) {
	// Type "file" returns a notebook's bytes as they are on disk, as text
	// when they are UTF-8 and as base64 otherwise.
	model, err := f.m.Get(path, contents.GetOptions{Type: "file", Content: true, Hash: true})
	if err != nil {
		return nil, FileInfo{}, err
	}
	text, _ := model.Content.(string)
	info := infoOf(model)
	if model.Format == nil || *model.Format != "base64" {
		data := []byte(text)
		if strings.HasSuffix(path, ".ipynb") {
			info.Signed = f.m.NotebookSigned(data)
		}
		return data, info, nil
	}
	data, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(text, "\n", ""))
	if err != nil {
		return nil, FileInfo{}, fmt.Errorf("decoding the base64 content of %s: %w", path, err)
	}
	return data, info, nil
}

func (f contentsFiles) Write(path, docType string, content Content) (FileInfo, error) {
	data := content.Bytes
	var req contents.SaveRequest
	switch {
	case content.Notebook != nil:
		req = contents.SaveRequest{Type: "notebook", Content: content.Notebook}
	case docType == "notebook":
		nb, err := contents.ReadNotebook(data)
		if err != nil {
			return FileInfo{}, err
		}
		req = contents.SaveRequest{Type: "notebook", Content: nb}
	case utf8.Valid(data):
		req = contents.SaveRequest{Type: "file", Format: "text", Content: string(data)}
	default:
		req = contents.SaveRequest{Type: "file", Format: "base64",
			Content: base64.StdEncoding.EncodeToString(data)}
	}
	req.Hash = true
	model, err := f.m.Save(path, req)
	if err != nil {
		return FileInfo{}, err
	}
	return infoOf(model), nil
}

func infoOf(model *contents.Model) FileInfo {
	info := FileInfo{
		ModTime:  model.LastModified.Time,
		Writable: model.Writable,
		IsDir:    model.Type == "directory",
	}
	if model.Hash != nil {
		info.Hash = *model.Hash
	}
	return info
}
