package httpapi

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRoutesInstall(t *testing.T) {
	var rt Routes
	rt.HandleFunc("GET /a", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "a") })
	rt.Handle("GET /b/{name}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "b "+r.PathValue("name"))
	}))
	mux := http.NewServeMux()
	rec := httptest.NewRecorder()
	serve(mux, rec, "/a")
	if rec.Code != http.StatusNotFound {
		t.Fatalf("before Install: GET /a = %d, want 404", rec.Code)
	}
	rt.Install(mux)
	for path, want := range map[string]string{"/a": "a", "/b/x": "b x"} {
		rec := httptest.NewRecorder()
		serve(mux, rec, path)
		if rec.Code != http.StatusOK || rec.Body.String() != want {
			t.Errorf("GET %s = %d %q, want 200 %q", path, rec.Code, rec.Body, want)
		}
	}
}

func TestRoutesInstallConflict(t *testing.T) {
	var rt Routes
	rt.HandleFunc("GET /a/{x}", func(http.ResponseWriter, *http.Request) {})
	rt.HandleFunc("GET /a/{y}", func(http.ResponseWriter, *http.Request) {})
	defer func() {
		msg := fmt.Sprint(recover())
		if !strings.Contains(msg, "conflicts") {
			t.Errorf("Install of conflicting patterns: panic %q, want one about the conflict", msg)
		}
	}()
	rt.Install(http.NewServeMux())
}

func serve(h http.Handler, rec *httptest.ResponseRecorder, path string) {
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
}
