package hub

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// flashMaxAge is how long after its redirect a page still shows a signed
// notice, so that a reload soon after shows it again and an old link does
// not.
const flashMaxAge = time.Minute

// Query parameters of a signed notice, beside "notice" and "error".
const (
	flashIssuedParam    = "issued"
	flashSignatureParam = "sig"
)

// flashURL returns target with a notice or error message for the page it
// names, signed with the time and the login session of r. Pages show only
// messages with a valid signature, so a crafted link cannot make the hub
// display text of its own choosing.
func (s *sessions) flashURL(r *http.Request, target, notice, errText string) string {
	u, err := url.Parse(target)
	if err != nil {
		// Targets are the hub's own paths, which always parse.
		return target
	}
	issued := strconv.FormatInt(s.now().Unix(), 10)
	q := u.Query()
	if notice != "" {
		q.Set("notice", notice)
	}
	if errText != "" {
		q.Set("error", errText)
	}
	q.Set(flashIssuedParam, issued)
	q.Set(flashSignatureParam, s.signFlash(s.loginSessionID(r), notice, errText, issued))
	u.RawQuery = q.Encode()
	return u.String()
}

// readFlash returns the notice and error message of r's query when
// flashURL signed them for r's login session at most flashMaxAge ago, and
// two empty strings otherwise.
func (s *sessions) readFlash(r *http.Request) (notice, errText string) {
	q := r.URL.Query()
	notice, errText, issued := q.Get("notice"), q.Get("error"), q.Get(flashIssuedParam)
	if notice == "" && errText == "" {
		return "", ""
	}
	want := s.signFlash(s.loginSessionID(r), notice, errText, issued)
	if subtle.ConstantTimeCompare([]byte(want), []byte(q.Get(flashSignatureParam))) != 1 {
		return "", ""
	}
	t, err := strconv.ParseInt(issued, 10, 64)
	if age := s.now().Sub(time.Unix(t, 0)); err != nil || age < 0 || age > flashMaxAge {
		return "", ""
	}
	return notice, errText
}

func (s *sessions) signFlash(sessionID, notice, errText, issued string) string {
	return s.sign("flash", sessionID, notice, errText, issued)
}

// loginSessionID returns the session ID of r's valid login cookie, or "".
func (s *sessions) loginSessionID(r *http.Request) string {
	l, _ := s.readLogin(r)
	return l.sessionID
}
