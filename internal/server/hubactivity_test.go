package server

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// activityRecorder is the hub side of an activityReporter under test.
type activityRecorder struct {
	mu    sync.Mutex
	last  time.Time   // the server's last activity
	posts []time.Time // reported times, in order
	fails int         // how many posts fail before one succeeds
}

func (a *activityRecorder) lastActivity() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last
}

func (a *activityRecorder) touch() {
	a.mu.Lock()
	a.last = time.Now()
	a.mu.Unlock()
}

func (a *activityRecorder) post(ctx context.Context, t time.Time) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fails > 0 {
		a.fails--
		return errors.New("hub down")
	}
	a.posts = append(a.posts, t)
	return nil
}

func (a *activityRecorder) reported() []time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]time.Time(nil), a.posts...)
}

// runReporter runs a reporter with a fixed interval of one minute until
// the test's bubble ends it.
func runReporter(t *testing.T, rec *activityRecorder) (stop func()) {
	r := &activityReporter{
		interval: time.Minute,
		last:     rec.lastActivity,
		post:     rec.post,
		log:      slog.New(slog.DiscardHandler),
		jitter:   func(d time.Duration) time.Duration { return d },
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { r.run(ctx) })
	return func() { cancel(); wg.Wait() }
}

func TestActivityReporter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		rec := &activityRecorder{last: start}
		stop := runReporter(t, rec)
		defer stop()

		synctest.Wait()
		if d := cmp.Diff([]time.Time{start}, rec.reported()); d != "" {
			t.Fatalf("reports at start (-want +got):\n%s", d)
		}

		time.Sleep(time.Minute + time.Second)
		synctest.Wait()
		if n := len(rec.reported()); n != 1 {
			t.Errorf("%d reports after an idle interval, want still 1", n)
		}

		rec.touch()
		used := rec.lastActivity()
		time.Sleep(time.Minute)
		synctest.Wait()
		if d := cmp.Diff([]time.Time{start, used}, rec.reported()); d != "" {
			t.Errorf("reports after activity (-want +got):\n%s", d)
		}
	})
}

func TestActivityReporterRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &activityRecorder{last: time.Now(), fails: 3}
		start := time.Now()
		stop := runReporter(t, rec)
		defer stop()

		// Retries wait 1 s, 2 s and 4 s before the fourth attempt succeeds.
		time.Sleep(7*time.Second + time.Millisecond)
		synctest.Wait()
		if n := len(rec.reported()); n != 1 {
			t.Fatalf("%d reports after three failures, want 1", n)
		}
		if elapsed := time.Since(start); elapsed < 7*time.Second {
			t.Errorf("report succeeded after %v, want the backoff of 7s", elapsed)
		}
	})
}

func TestActivityReporterGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &activityRecorder{last: time.Now(), fails: 1 << 30}
		var attempts atomic.Int32
		r := &activityReporter{
			interval: time.Hour,
			last:     rec.lastActivity,
			post: func(ctx context.Context, tm time.Time) error {
				attempts.Add(1)
				return rec.post(ctx, tm)
			},
			log:    slog.New(slog.DiscardHandler),
			jitter: func(d time.Duration) time.Duration { return d },
		}
		err := r.postRetrying(t.Context(), time.Now())
		if err == nil {
			t.Fatal("postRetrying succeeded against a hub that always fails")
		}
		// Waits of 1+2+4+8+15+15+15 s reach the 60 s limit, so eight
		// attempts are made.
		if n := attempts.Load(); n != 8 {
			t.Errorf("%d attempts before giving up, want 8", n)
		}
	})
}

func TestTokenCacheSharesLookups(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newTokenCache(time.Minute, 2)
		var calls atomic.Int32
		release := make(chan struct{})
		fetch := func(context.Context) (*hubUser, error) {
			calls.Add(1)
			<-release
			return &hubUser{Name: "alice"}, nil
		}
		now := time.Now()
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() {
				e, err := c.lookup(t.Context(), "k", now, nil, fetch)
				if err != nil || e.user.Name != "alice" {
					t.Errorf("lookup = %v, %v", e.user, err)
				}
			})
		}
		synctest.Wait() // one caller fetches, four wait for it
		if n := calls.Load(); n != 1 {
			t.Errorf("%d concurrent lookups of one key made %d hub calls, want 1", 5, n)
		}
		close(release)
		wg.Wait()
	})
}

func TestTokenCacheErrorsAndLimit(t *testing.T) {
	c := newTokenCache(time.Minute, 2)
	now := time.Unix(1_700_000_000, 0)
	ok := func(context.Context) (*hubUser, error) { return &hubUser{Name: "alice"}, nil }
	failing := func(context.Context) (*hubUser, error) { return nil, errors.New("down") }
	if _, err := c.lookup(context.Background(), "e", now, nil, failing); err == nil {
		t.Error("error not returned")
	}
	if e, err := c.lookup(context.Background(), "e", now, nil, ok); err != nil || e.user == nil {
		t.Errorf("after an error, lookup = %v, %v; want a new call", e.user, err)
	}
	e, _ := c.lookup(context.Background(), "e", now.Add(time.Second), nil, failing)
	if e.user == nil {
		t.Error("fresh answer not served from the cache")
	} else if !e.at.Equal(now) {
		t.Errorf("cached answer dated %v, want the time of its call, %v", e.at, now)
	}
	never := func(tokenCacheEntry) bool { return false }
	if _, err := c.lookup(context.Background(), "e", now.Add(time.Second), never, failing); err == nil {
		t.Error("answer that usable refuses served from the cache")
	}
	if _, err := c.lookup(context.Background(), "e", now.Add(time.Minute), nil, failing); err == nil {
		t.Error("expired answer served from the cache")
	}
	for _, key := range []string{"a", "b", "c"} {
		c.lookup(context.Background(), key, now, nil, ok)
	}
	if n := len(c.entries); n > 2 {
		t.Errorf("cache holds %d entries, limit 2", n)
	}
}
