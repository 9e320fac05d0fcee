package auth

import (
	"context"
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

func TestLoginLimiterLimits(t *testing.T) {
	now := time.Unix(1000, 0)
	l := NewLoginLimiter(LoginLimits{PerPair: 2, PerAddress: 4, PerUser: 5,
		Window: time.Minute, KnownFor: time.Hour, KnownPerUser: 10}, knownMap{},
		func() time.Time { return now })
	reserve := func(user, addr string) bool {
		res, _, err := l.Reserve(context.Background(), user, addr)
		if err != nil {
			t.Fatal(err)
		}
		return res != nil
	}
	for i := range 2 {
		if !reserve("alice", "10.0.0.1") {
			t.Fatalf("attempt %d of alice from 10.0.0.1 blocked", i+1)
		}
	}
	if reserve("alice", "10.0.0.1") {
		t.Error("third attempt of alice from 10.0.0.1 reserved over the pair limit")
	}
	if !reserve("alice", "10.0.0.2") {
		t.Error("alice from another address blocked by the pair limit")
	}
	if !reserve("bob", "10.0.0.1") || !reserve("carol", "10.0.0.1") {
		t.Fatal("other users from 10.0.0.1 blocked under the address limit")
	}
	if reserve("dave", "10.0.0.1") {
		t.Error("fifth failure from 10.0.0.1 reserved over the address limit")
	}
	if !reserve("alice", "10.0.0.3") || !reserve("alice", "10.0.0.4") {
		t.Fatal("alice blocked under the user ceiling")
	}
	if reserve("alice", "10.0.0.5") {
		t.Error("sixth failure of alice reserved over the user ceiling")
	}
	now = now.Add(time.Minute)
	if !reserve("alice", "10.0.0.1") {
		t.Error("alice still blocked after the window")
	}
}

func TestLoginLimiterKnownPair(t *testing.T) {
	now := time.Unix(1000, 0)
	l := NewLoginLimiter(LoginLimits{PerPair: 2, PerAddress: 3, PerUser: 3,
		Window: time.Minute, KnownFor: time.Hour, KnownPerUser: 10}, knownMap{},
		func() time.Time { return now })
	if err := l.Succeeded(context.Background(), "admin", "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	reserve := func(user, addr string) *LoginReservation {
		res, _, err := l.Reserve(context.Background(), user, addr)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for _, user := range []string{"a", "b", "c"} {
		if res := reserve(user, "10.0.0.1"); res == nil {
			t.Fatalf("attempt of %s blocked under the address limit", user)
		}
	}
	for _, addr := range []string{"10.0.0.2", "10.0.0.3", "10.0.0.4"} {
		if res := reserve("admin", addr); res == nil {
			t.Fatalf("attempt of admin from %s blocked under the user ceiling", addr)
		}
	}
	if res := reserve("newcomer", "10.0.0.1"); res != nil {
		t.Error("a user who never signed in from 10.0.0.1 passed its full address limit")
	}
	if res := reserve("admin", "10.0.0.5"); res != nil {
		t.Error("admin from a new address passed the full user ceiling")
	}
	first := reserve("admin", "10.0.0.1")
	second := reserve("admin", "10.0.0.1")
	if first == nil || second == nil {
		t.Fatal("admin from the address of its last sign-in blocked")
	}
	if res := reserve("admin", "10.0.0.1"); res != nil {
		t.Error("a known pair passed its own pair limit")
	}
	second.Release()
	if res := reserve("admin", "10.0.0.1"); res == nil {
		t.Error("a released attempt still counts")
	}
	now = now.Add(time.Hour)
	for _, user := range []string{"a", "b", "c"} {
		if res := reserve(user, "10.0.0.1"); res == nil {
			t.Fatalf("attempt of %s blocked after the window", user)
		}
	}
	if res := reserve("admin", "10.0.0.1"); res != nil {
		t.Error("admin passed the address limit after its sign-in expired")
	}
}

// knownMap keeps known sign-ins in memory, by user name and address, and
// ignores the bound on addresses per user.
type knownMap map[[2]string]time.Time

func (m knownMap) RecordKnownLogin(_ context.Context, user, address string, at time.Time,
	_ int, _ time.Time) error {
	m[[2]string{user, address}] = at
	return nil
}

func (m knownMap) IsKnownLogin(_ context.Context, user, address string, since time.Time) (bool, error) {
	at, ok := m[[2]string{user, address}]
	return ok && at.After(since), nil
}
