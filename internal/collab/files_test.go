package collab

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/jupygo/jupygo/internal/contents"
)

func TestContentsFilesKeepBytes(t *testing.T) {
	root := t.TempDir()
	m, err := contents.New(root, contents.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	files := ContentsFiles(m)
	tests := []struct {
		name    string
		docType string
		data    []byte
	}{
		{"text", "file", []byte("héllo\r\n")},
		{"binary", "blob", []byte{0, 0xff, 0xfe, 'x', '\n'}},
		{"long binary", "blob", bytes.Repeat([]byte{0xff, 1, 2}, 100)},
		{"notebook", "notebook", []byte(`{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}` + "\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := tt.name + ".bin"
			if tt.docType == "notebook" {
				name = "n.ipynb"
			}
			info, err := files.Write(name, tt.docType, Content{Bytes: tt.data})
			if err != nil {
				t.Fatal(err)
			}
			onDisk, err := os.ReadFile(filepath.Join(root, name))
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(onDisk)
			if info.Hash != hex.EncodeToString(sum[:]) {
				t.Errorf("Write's hash %s is not the sha256 of the file", info.Hash)
			}
			got, readInfo, err := files.Read(name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, onDisk) {
				t.Errorf("Read returned %q, want the bytes on disk %q", got, onDisk)
			}
			if readInfo.Hash != info.Hash || !readInfo.ModTime.Equal(info.ModTime) {
				t.Errorf("Read's info %+v differs from Write's %+v", readInfo, info)
			}
			if tt.docType != "notebook" && !bytes.Equal(onDisk, tt.data) {
				t.Errorf("file %q, want %q", onDisk, tt.data)
			}
		})
	}
}
