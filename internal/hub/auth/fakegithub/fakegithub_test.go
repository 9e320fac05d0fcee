package fakegithub

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

func TestSignInPageThenCookie(t *testing.T) {
	gh := Start(Options{})
	defer gh.Close()
	gh.AddUser(User{Login: "Alice"})
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	authorize := gh.URL + "/login/oauth/authorize?" + url.Values{"client_id": {gh.ClientID},
		"redirect_uri": {"http://127.0.0.1:1/cb"}, "state": {"s&t"}}.Encode()

	resp, err := browser.Get(authorize)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	form := url.Values{"login": {"alice"}}
	for _, m := range hiddenInput.FindAllStringSubmatch(string(page), -1) {
		form.Add(m[1], html.UnescapeString(m[2]))
	}
	if form.Get("state") != "s&t" || form.Get("client_id") != gh.ClientID {
		t.Fatalf("sign-in page fields = %v, want the authorize parameters", form)
	}
	resp, err = browser.PostForm(gh.URL+"/login/oauth/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Query().Get("code") == "" ||
		loc.Query().Get("state") != "s&t" {
		t.Fatalf("sign-in form = %d %q, want a redirect with a code and the state", resp.StatusCode, loc)
	}

	// Signed in already, the browser is sent back at once.
	resp, err = browser.Get(authorize)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), "code=") {
		t.Errorf("second authorize = %d %q, want a redirect with a code", resp.StatusCode,
			resp.Header.Get("Location"))
	}
}

func TestAccessTokenFormEncoded(t *testing.T) {
	gh := Start(Options{})
	defer gh.Close()
	resp, err := http.PostForm(gh.URL+"/login/oauth/access_token", url.Values{
		"client_id": {gh.ClientID}, "client_secret": {gh.ClientSecret}, "code": {"unknown"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	reply, err := url.ParseQuery(string(body))
	if resp.StatusCode != http.StatusOK || err != nil || reply.Get("error") != "bad_verification_code" {
		t.Errorf("token reply without Accept = %d %q, want a form-encoded bad_verification_code",
			resp.StatusCode, body)
	}
	if all, asJSON := gh.TokenRequests(); all != 1 || asJSON != 0 {
		t.Errorf("TokenRequests = %d, %d; want 1, 0", all, asJSON)
	}
}
