package hub

import (
	"io"
	"net/http"
	"testing"
)

// BenchmarkProxiedRequest measures a request through the hub's listener
// and proxy to a user server, over loopback.
func BenchmarkProxiedRequest(b *testing.B) {
	th := startHub(b, hubOptions{})
	th.addUser("alice", false)
	th.api("POST", "/hub/api/users/alice/server", th.token("alice"), nil)
	client := &http.Client{}
	b.ResetTimer()
	for b.Loop() {
		resp, err := client.Get(th.url + "/user/alice/api/status")
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// BenchmarkAPIUserToken measures GET /hub/api/user with a token, the call
// single-user servers make to identify their users.
func BenchmarkAPIUserToken(b *testing.B) {
	th := startHub(b, hubOptions{})
	th.addUser("alice", false)
	tok := th.token("alice")
	client := &http.Client{}
	b.ResetTimer()
	for b.Loop() {
		req, _ := http.NewRequest("GET", th.url+"/hub/api/user", nil)
		req.Header.Set("Authorization", "token "+tok)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
