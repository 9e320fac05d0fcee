package auth

import (
	"sync"
	"testing"
	"time"
)

func TestLimiterReserve(t *testing.T) {
	now := time.Unix(1000, 0)
	l := NewLimiter(3, time.Minute, func() time.Time { return now })
	for i := range 3 {
		if res, _ := l.Reserve("alice"); res == nil {
			t.Fatalf("attempt %d blocked", i+1)
		}
	}
	res, wait := l.Reserve("alice")
	if res != nil {
		t.Fatal("fourth attempt reserved after three failures")
	}
	if wait != time.Minute {
		t.Errorf("wait = %v, want 1m", wait)
	}
	if res, _ := l.Reserve("bob"); res == nil {
		t.Error("another key is blocked")
	}
	now = now.Add(time.Minute)
	if res, _ := l.Reserve("alice"); res == nil {
		t.Error("still blocked after the window")
	}
	l.Reset("alice")
	if res, _ := l.Reserve("alice"); res == nil {
		t.Error("blocked after Reset")
	}
}

func TestLimiterRelease(t *testing.T) {
	now := time.Unix(1000, 0)
	l := NewLimiter(2, time.Minute, func() time.Time { return now })
	first, _ := l.Reserve("alice")
	now = now.Add(time.Second)
	second, _ := l.Reserve("alice")
	if first == nil || second == nil {
		t.Fatalf("reservations = %v, %v, want both", first, second)
	}
	if res, _ := l.Reserve("alice"); res != nil {
		t.Fatal("third attempt reserved while two are pending")
	}
	second.Release()
	second.Release()
	third, _ := l.Reserve("alice")
	if third == nil {
		t.Fatal("attempt blocked after a release")
	}
	if res, _ := l.Reserve("alice"); res != nil {
		t.Error("a second Release freed another attempt")
	}
	now = now.Add(time.Minute)
	first.Release()
	if got := len(l.failures["alice"]); got != 1 {
		t.Errorf("failures after the first expired and was released = %d, want 1", got)
	}
}

func TestLimiterConcurrentReserve(t *testing.T) {
	l := NewLimiter(5, time.Minute, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	reserved := 0
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if res, _ := l.Reserve("alice"); res != nil {
				mu.Lock()
				reserved++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if reserved != 5 {
		t.Errorf("concurrent reservations = %d, want the limit of 5", reserved)
	}
}
