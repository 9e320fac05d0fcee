package store_test

import (
	"path/filepath"
	"testing"

	"github.com/jupygo/jupygo/internal/store"
	"github.com/jupygo/jupygo/internal/store/storetest"
)

func TestConformanceSQLiteFile(t *testing.T) {
	storetest.RunConformance(t, func(t *testing.T) store.Store {
		path := filepath.Join(t.TempDir(), "jupyterhub.sqlite")
		s, err := store.Open(t.Context(), "sqlite:///"+path, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestConformanceSQLiteMemory(t *testing.T) {
	storetest.RunConformance(t, func(t *testing.T) store.Store {
		s, err := store.Open(t.Context(), "sqlite://", store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
