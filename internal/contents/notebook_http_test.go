package contents

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNotebookRoundTripOverHTTP(t *testing.T) {
	for name, data := range readFixtures(t) {
		t.Run(name, func(t *testing.T) {
			s := newTestServer(t, Options{})
			s.writeFile(name, string(data))
			// The raw response goes back as the PUT body, as a client
			// that keeps the model's JSON text would send it.
			resp, body := s.do("GET", "/api/contents/"+name, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET: status %d: %s", resp.StatusCode, body)
			}
			var model struct {
				Content json.RawMessage `json:"content"`
			}
			if err := json.Unmarshal(body, &model); err != nil {
				t.Fatal(err)
			}
			put := []byte(`{"type": "notebook", "format": "json", "content": ` + string(model.Content) + `}`)
			s.call("PUT", "/api/contents/"+name, put, http.StatusOK)
			if got := s.readFile(name); got != string(data) {
				t.Errorf("saving the unchanged notebook changed its bytes:\n%s", cmp.Diff(string(data), got))
			}
		})
	}
}

func TestNotebookGetContentLength(t *testing.T) {
	s := newTestServer(t, Options{})
	data := readFixtures(t)["v4.5.ipynb"]
	s.writeFile("n.ipynb", string(data))
	resp, body := s.do("GET", "/api/contents/n.ipynb", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET: status %d: %s", resp.StatusCode, body)
	}
	if got, want := resp.Header.Get("Content-Length"), strconv.Itoa(len(body)); got != want {
		t.Errorf("Content-Length = %q, want %q", got, want)
	}
	if !json.Valid(body) {
		t.Errorf("response is not JSON: %.200s", body)
	}
}

// TestNotebookGetsConcurrent reads notebooks of different sizes at once,
// so that responses would mix if a pooled buffer were handed out twice.
func TestNotebookGetsConcurrent(t *testing.T) {
	s := newTestServer(t, Options{})
	fixtures := readFixtures(t)
	want := map[string][]byte{}
	for name, data := range fixtures {
		s.writeFile(name, string(data))
		resp, body := s.do("GET", "/api/contents/"+name+"?content=1", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d: %s", name, resp.StatusCode, body)
		}
		want[name] = contentOf(t, body)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for range 4 {
		for name := range fixtures {
			wg.Go(func() {
				for range 5 {
					resp, body := s.do("GET", "/api/contents/"+name, nil)
					if resp.StatusCode != http.StatusOK {
						errs <- name + ": status " + resp.Status
						return
					}
					if got := contentOf(t, body); !bytes.Equal(got, want[name]) {
						errs <- name + ": content differs from the first response"
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// contentOf returns the content of a model response, re-encoded in a
// fixed form, and ignores the timestamps around it.
func contentOf(t *testing.T, body []byte) []byte {
	var model struct {
		Content any `json:"content"`
	}
	if err := json.Unmarshal(body, &model); err != nil {
		t.Errorf("response is not a JSON model: %v", err)
		return nil
	}
	out, err := json.Marshal(model.Content)
	if err != nil {
		t.Error(err)
	}
	return out
}
