package collab

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/jupygo/jupygo/yjs"
)

// fixtureUpdates returns the V1 updates in the yjs package's fixtures,
// which yjs 13.6.33 recorded (see yjs/README.md).
func fixtureUpdates(t testing.TB) [][]byte {
	t.Helper()
	data, err := os.ReadFile("../../yjs/testdata/fixtures.json")
	if err != nil {
		t.Skipf("yjs fixtures not found: %v", err)
	}
	var fixtures any
	if err := json.Unmarshal(data, &fixtures); err != nil {
		t.Fatal(err)
	}
	v1Keys := map[string]bool{"updates": true, "update": true, "full": true, "merged": true,
		"mergedReverse": true, "diffed": true, "v2ToV1": true}
	var out [][]byte
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(k, x)
			}
		case []any:
			for _, x := range v {
				walk(key, x)
			}
		case string:
			if b, err := hex.DecodeString(v); err == nil && v1Keys[key] && len(b) > 0 {
				out = append(out, b)
			}
		}
	}
	walk("", fixtures)
	return out
}

func TestUpdateCostReadsYjsUpdates(t *testing.T) {
	updates := fixtureUpdates(t)
	if len(updates) < 100 {
		t.Fatalf("found only %d fixture updates", len(updates))
	}
	for i, u := range updates {
		if _, err := updateCost(u, 1<<30); err != nil {
			t.Errorf("fixture update %d (%x): %v", i, u, err)
		}
	}
}

func TestUpdateCostCountsItems(t *testing.T) {
	doc := yjs.NewDoc()
	arr := doc.GetArray("cells")
	doc.Transact(func(*yjs.Transaction) {
		for range 1000 {
			arr.Push(yjs.NewMap())
		}
	}, nil)
	update := doc.EncodeStateAsUpdate(nil)
	n, err := updateCost(update, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1000 {
		t.Errorf("cost %d, want 1000 (one item per map)", n)
	}
	if n, _ := updateCost(update, 10); n <= 10 {
		t.Errorf("cost with limit 10 is %d, want the count to pass the limit", n)
	}
}

func TestUpdateCostErrors(t *testing.T) {
	for _, u := range [][]byte{nil, {1}, {1, 1, 1, 0, 0x1f}, {1, 200, 1, 0, 4, 1, 1, 't'}} {
		if _, err := updateCost(u, 1<<30); !errors.Is(err, errMalformed) {
			t.Errorf("updateCost(%x) = %v, want errMalformed", u, err)
		}
	}
}

// FuzzUpdateCost checks that every update yjs applies is also read by
// updateCost, which must never panic.
func FuzzUpdateCost(f *testing.F) {
	for _, u := range fixtureUpdates(f) {
		f.Add(u)
	}
	f.Fuzz(func(t *testing.T, u []byte) {
		_, costErr := updateCost(u, 1<<30)
		if costErr != nil && !errors.Is(costErr, errMalformed) {
			t.Fatalf("error %v does not wrap errMalformed", costErr)
		}
		if costErr != nil && yjs.NewDoc().ApplyUpdate(u, nil) == nil {
			t.Fatalf("yjs applies %x, but updateCost fails: %v", u, costErr)
		}
	})
}
