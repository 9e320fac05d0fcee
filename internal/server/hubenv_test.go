package server

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// aliceEnv is the environment JupyterHub 5 gives alice's server "lab2".
func aliceEnv() map[string]string {
	return map[string]string{
		"JUPYTERHUB_API_TOKEN":           "0123456789abcdef0123456789abcdef",
		"JUPYTERHUB_API_URL":             "http://127.0.0.1:8081/hub/api",
		"JUPYTERHUB_ACTIVITY_URL":        "http://127.0.0.1:8081/hub/api/users/alice/activity",
		"JUPYTERHUB_BASE_URL":            "/",
		"JUPYTERHUB_CLIENT_ID":           "jupyterhub-user-alice-lab2",
		"JUPYTERHUB_HOST":                "",
		"JUPYTERHUB_OAUTH_CALLBACK_URL":  "/user/alice/lab2/oauth_callback",
		"JUPYTERHUB_OAUTH_ACCESS_SCOPES": `["access:servers!server=alice/lab2", "access:servers!user=alice"]`,
		"JUPYTERHUB_SERVER_NAME":         "lab2",
		"JUPYTERHUB_SERVICE_PREFIX":      "/user/alice/lab2/",
		"JUPYTERHUB_SERVICE_URL":         "http://127.0.0.1:45678/user/alice/lab2/",
		"JUPYTERHUB_USER":                "alice",
	}
}

func getenvFrom(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

func TestHubConfigFromEnv(t *testing.T) {
	c, err := HubConfigFromEnv(getenvFrom(aliceEnv()))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{
		"APIURL":           c.APIURL,
		"HubPrefix":        c.HubPrefix,
		"ServiceHost":      c.ServiceURL.Host,
		"ServicePrefix":    c.ServicePrefix,
		"ClientID":         c.ClientID,
		"OAuthCallbackURL": c.OAuthCallbackURL,
		"AccessScopes":     c.AccessScopes,
		"ServerName":       c.ServerName,
		"ActivityInterval": c.ActivityInterval,
		"AllowTokenInURL":  c.AllowTokenInURL,
		"WebSocketCookie":  c.AllowWebSocketCookieAuth,
	}
	want := map[string]any{
		"APIURL":           "http://127.0.0.1:8081/hub/api",
		"HubPrefix":        "/hub/",
		"ServiceHost":      "127.0.0.1:45678",
		"ServicePrefix":    "/user/alice/lab2/",
		"ClientID":         "jupyterhub-user-alice-lab2",
		"OAuthCallbackURL": "/user/alice/lab2/oauth_callback",
		"AccessScopes":     []string{"access:servers!server=alice/lab2", "access:servers!user=alice"},
		"ServerName":       "lab2",
		"ActivityInterval": 300 * time.Second,
		"AllowTokenInURL":  false,
		"WebSocketCookie":  true,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("config (-want +got):\n%s", d)
	}
}

func TestHubConfigFromEnvVariants(t *testing.T) {
	tests := []struct {
		name   string
		change map[string]string
		check  func(*HubConfig) any
		want   any
	}{
		{"base URL under a prefix", map[string]string{"JUPYTERHUB_BASE_URL": "/jupyter"},
			func(c *HubConfig) any { return c.HubPrefix }, "/jupyter/hub/"},
		{"service prefix without slashes", map[string]string{"JUPYTERHUB_SERVICE_PREFIX": "user/alice"},
			func(c *HubConfig) any { return c.ServicePrefix }, "/user/alice/"},
		{"default callback", map[string]string{"JUPYTERHUB_OAUTH_CALLBACK_URL": ""},
			func(c *HubConfig) any { return c.OAuthCallbackURL }, "/user/alice/lab2/oauth_callback"},
		{"port from the scheme", map[string]string{"JUPYTERHUB_SERVICE_URL": "http://10.0.0.5/user/alice/"},
			func(c *HubConfig) any { return c.ServiceURL.Host }, "10.0.0.5:80"},
		{"IPv6 service URL", map[string]string{"JUPYTERHUB_SERVICE_URL": "http://[::1]:9000/"},
			func(c *HubConfig) any { return c.ServiceURL.Hostname() }, "::1"},
		{"scopes of hub 2", map[string]string{
			"JUPYTERHUB_OAUTH_ACCESS_SCOPES": "",
			"JUPYTERHUB_OAUTH_SCOPES":        `["access:servers!server=alice/lab2"]`,
		}, func(c *HubConfig) any { return c.AccessScopes }, []string{"access:servers!server=alice/lab2"}},
		{"scopes of hub 1", map[string]string{"JUPYTERHUB_OAUTH_ACCESS_SCOPES": ""},
			func(c *HubConfig) any { return c.AccessScopes },
			[]string{"access:servers!server=alice/lab2", "access:servers!user=alice"}},
		{"deprecated token name", map[string]string{
			"JUPYTERHUB_API_TOKEN": "", "JPY_API_TOKEN": "old",
		}, func(c *HubConfig) any { return c.APIToken }, "old"},
		{"activity interval", map[string]string{"JUPYTERHUB_ACTIVITY_INTERVAL": "60"},
			func(c *HubConfig) any { return c.ActivityInterval }, time.Minute},
		{"activity off", map[string]string{"JUPYTERHUB_ACTIVITY_INTERVAL": "0"},
			func(c *HubConfig) any { return c.ActivityInterval }, time.Duration(0)},
		{"token in URL", map[string]string{"JUPYTERHUB_ALLOW_TOKEN_IN_URL": "1"},
			func(c *HubConfig) any { return c.AllowTokenInURL }, true},
		{"websocket cookie off", map[string]string{"JUPYTERHUB_ALLOW_WEBSOCKET_COOKIE_AUTH": "false"},
			func(c *HubConfig) any { return c.AllowWebSocketCookieAuth }, false},
		{"subdomain host", map[string]string{"JUPYTERHUB_HOST": "https://hub.example.org/"},
			func(c *HubConfig) any { return c.HubHost }, "https://hub.example.org"},
		{"cookie options", map[string]string{
			"JUPYTERHUB_COOKIE_OPTIONS": `{"SameSite": "None", "secure": true, "domain": "example.org"}`,
		}, func(c *HubConfig) any { return c.CookieOptions },
			CookieOptions{Secure: true, SameSite: "None", Domain: "example.org"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := aliceEnv()
			for k, v := range tt.change {
				env[k] = v
			}
			c, err := HubConfigFromEnv(getenvFrom(env))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, tt.check(c)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestHubConfigFromEnvErrors(t *testing.T) {
	tests := []struct {
		name    string
		change  map[string]string
		wantErr string
	}{
		{"no token", map[string]string{"JUPYTERHUB_API_TOKEN": ""}, "JUPYTERHUB_API_TOKEN is not set"},
		{"no API URL", map[string]string{"JUPYTERHUB_API_URL": ""}, "JUPYTERHUB_API_URL is not set"},
		{"relative API URL", map[string]string{"JUPYTERHUB_API_URL": "/hub/api"}, "JUPYTERHUB_API_URL"},
		{"no service URL", map[string]string{"JUPYTERHUB_SERVICE_URL": ""}, "JUPYTERHUB_SERVICE_URL is not set"},
		{"https service URL", map[string]string{"JUPYTERHUB_SERVICE_URL": "https://127.0.0.1:1/"},
			"internal SSL is not supported"},
		{"bad port", map[string]string{"JUPYTERHUB_SERVICE_URL": "http://127.0.0.1:99999/"}, "invalid port"},
		{"no client id", map[string]string{"JUPYTERHUB_CLIENT_ID": ""}, "JUPYTERHUB_CLIENT_ID is not set"},
		{"client id with a space", map[string]string{"JUPYTERHUB_CLIENT_ID": "a b"}, "cannot name a cookie"},
		{"scopes not JSON", map[string]string{"JUPYTERHUB_OAUTH_ACCESS_SCOPES": "access:servers"},
			"JUPYTERHUB_OAUTH_ACCESS_SCOPES"},
		{"no scopes and no user", map[string]string{
			"JUPYTERHUB_OAUTH_ACCESS_SCOPES": "", "JUPYTERHUB_USER": "",
		}, "nobody could be allowed in"},
		{"interval not a number", map[string]string{"JUPYTERHUB_ACTIVITY_INTERVAL": "5m"},
			"JUPYTERHUB_ACTIVITY_INTERVAL"},
		{"cookie option unknown", map[string]string{"JUPYTERHUB_COOKIE_OPTIONS": `{"path": "/"}`},
			`key "path" is not supported`},
		{"cookie option type", map[string]string{"JUPYTERHUB_COOKIE_OPTIONS": `{"secure": "yes"}`},
			`invalid value yes for "secure"`},
		{"default URL not a path", map[string]string{"JUPYTERHUB_DEFAULT_URL": "//evil.example"},
			"JUPYTERHUB_DEFAULT_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := aliceEnv()
			for k, v := range tt.change {
				env[k] = v
			}
			_, err := HubConfigFromEnv(getenvFrom(env))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestHubConfigFromEnvAbsent(t *testing.T) {
	c, err := HubConfigFromEnv(getenvFrom(map[string]string{"JUPYTERHUB_HOST": "x", "HOME": "/home/a"}))
	if c != nil || err != nil {
		t.Errorf("HubConfigFromEnv without hub variables = %v, %v; want nil, nil", c, err)
	}
}

func FuzzHubConfigFromEnv(f *testing.F) {
	env := aliceEnv()
	f.Add(env["JUPYTERHUB_SERVICE_URL"], env["JUPYTERHUB_OAUTH_ACCESS_SCOPES"], "", "300", "/lab")
	f.Add("http://[::1]:0/", `[]`, `{"secure": true, "expires_days": 1.5}`, "0", "")
	f.Add("http://%zz/", `[1, 2]`, `{"samesite": 3}`, "-1", "//x")
	f.Add("https://h/", `null`, `[]`, "99999999999999999999", "\\x")
	f.Fuzz(func(t *testing.T, serviceURL, scopes, cookieOptions, interval, defaultURL string) {
		env := aliceEnv()
		env["JUPYTERHUB_SERVICE_URL"] = serviceURL
		env["JUPYTERHUB_OAUTH_ACCESS_SCOPES"] = scopes
		env["JUPYTERHUB_COOKIE_OPTIONS"] = cookieOptions
		env["JUPYTERHUB_ACTIVITY_INTERVAL"] = interval
		env["JUPYTERHUB_DEFAULT_URL"] = defaultURL
		c, err := HubConfigFromEnv(getenvFrom(env))
		if err != nil {
			return
		}
		if c.ServiceURL == nil || c.ServiceURL.Port() == "" {
			t.Errorf("accepted service URL %q without a port", serviceURL)
		}
		if c.ActivityInterval < 0 {
			t.Errorf("negative activity interval from %q", interval)
		}
	})
}
