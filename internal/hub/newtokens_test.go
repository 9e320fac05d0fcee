package hub

import (
	"strconv"
	"testing"
	"time"
)

func TestNewTokensTakeOnce(t *testing.T) {
	var n newTokens
	now := time.Unix(1_000_000, 0)
	n.put("k", "secret", now)
	if got, ok := n.take("k", now); !ok || got != "secret" {
		t.Errorf("first take = %q, %v, want secret, true", got, ok)
	}
	if got, ok := n.take("k", now); ok {
		t.Errorf("second take = %q, true, want nothing", got)
	}
}

func TestNewTokensExpire(t *testing.T) {
	var n newTokens
	now := time.Unix(1_000_000, 0)
	n.put("k", "secret", now)
	if got, ok := n.take("k", now.Add(flashMaxAge)); ok {
		t.Errorf("take after flashMaxAge = %q, true, want nothing", got)
	}
}

func TestNewTokensEvictOldestWhenFull(t *testing.T) {
	var n newTokens
	start := time.Unix(1_000_000, 0)
	for i := range maxNewTokens {
		n.put(strconv.Itoa(i), "t"+strconv.Itoa(i), start.Add(time.Duration(i)*time.Millisecond))
	}
	now := start.Add(time.Second)
	n.put("new", "t-new", now)
	if len(n.entries) != maxNewTokens {
		t.Errorf("%d entries, want %d", len(n.entries), maxNewTokens)
	}
	if _, ok := n.take("0", now); ok {
		t.Error("the oldest entry was kept")
	}
	if got, ok := n.take("1", now); !ok || got != "t1" {
		t.Errorf("take of the second oldest = %q, %v, want t1, true", got, ok)
	}
	if got, ok := n.take("new", now); !ok || got != "t-new" {
		t.Errorf("take of the new entry = %q, %v, want t-new, true", got, ok)
	}

}

func TestNewTokensDropExpiredWhenFull(t *testing.T) {
	var n newTokens
	start := time.Unix(1_000_000, 0)
	for i := range maxNewTokens {
		n.put(strconv.Itoa(i), "t", start)
	}
	later := start.Add(flashMaxAge)
	n.put("later", "t-later", later)
	if len(n.entries) != 1 {
		t.Errorf("%d entries after all others expired, want 1", len(n.entries))
	}
	if got, ok := n.take("later", later); !ok || got != "t-later" {
		t.Errorf("take of the new entry = %q, %v, want t-later, true", got, ok)
	}
}
