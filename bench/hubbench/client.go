package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// client follows no redirects: a request for a server without a route is
// redirected to the hub, and that must count as "not there yet".
var client = &http.Client{
	Timeout: 30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// status sends a request without a body and returns its status code, or 0
// when no response came. With auth, it carries the service token.
func (h *hub) status(method, url string, auth bool) int {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		return 0
	}
	if auth {
		req.Header.Set("Authorization", "token "+h.token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// api calls the hub's REST API with the service token and a JSON body (nil
// for none), and fails unless the reply has one of the wanted codes.
func (h *hub) api(method, path string, body any, want ...int) error {
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, h.url+"/hub/api"+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "token "+h.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	for _, code := range want {
		if resp.StatusCode == code {
			return nil
		}
	}
	return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(data))
}
