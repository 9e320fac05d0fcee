package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// writeSecret writes content to a new file with the given mode and
// returns its path.
func writeSecret(t *testing.T, content string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadSecretFile(t *testing.T) {
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		want    string
		wantErr string
	}{
		{"owner only", "s3cret\n", 0o600, "s3cret", ""},
		{"read only", "  s3cret  \n\n", 0o400, "s3cret", ""},
		{"group readable", "s3cret", 0o640, "", "has mode 0640, so group or others may access it"},
		{"world readable", "s3cret", 0o604, "", "has mode 0604"},
		{"group writable", "s3cret", 0o620, "", "has mode 0620"},
		{"empty", " \n", 0o600, "", "is empty"},
		{"too large", strings.Repeat("x", maxSecretFileBytes+1), 0o600, "", "is larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeSecret(t, tt.content, tt.mode)
			got, err := ReadSecretFile(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ReadSecretFile error = %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("error %q contains the secret", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadSecretFile: %v", err)
			}
			if got != tt.want {
				t.Errorf("ReadSecretFile = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("directory", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadSecretFile(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("ReadSecretFile(dir) error = %v, want not a regular file", err)
		}
	})
	t.Run("owned by another account", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("skipped: giving a file to another uid needs root")
		}
		path := writeSecret(t, "s3cret", 0o600)
		// A uid that no account has works as well for the check.
		const otherUID = 61234
		if err := os.Chown(path, otherUID, otherUID); err != nil {
			t.Fatal(err)
		}
		_, err := ReadSecretFile(path)
		if err == nil || !strings.Contains(err.Error(), "belongs to uid 61234, not to root") {
			t.Errorf("ReadSecretFile of another uid's file = %v, want an error naming the owner", err)
		}
		if err := os.Chown(path, 0, otherUID); err != nil {
			t.Fatal(err)
		}
		if got, err := ReadSecretFile(path); err != nil || got != "s3cret" {
			t.Errorf("ReadSecretFile of root's file = %q, %v; want the secret", got, err)
		}
	})
	t.Run("missing", func(t *testing.T) {
		_, err := ReadSecretFile(filepath.Join(t.TempDir(), "none"))
		if !os.IsNotExist(err) {
			t.Errorf("ReadSecretFile(missing) error = %v, want not exist", err)
		}
	})
}

func TestSecretFileKeys(t *testing.T) {
	clearEnv(t)
	token := writeSecret(t, "service-token\n", 0o600)
	client := writeSecret(t, "client-secret\n", 0o600)
	proxy := writeSecret(t, "proxy-token", 0o400)
	keys := writeSecret(t, hexKey+"\n"+strings.Repeat("ab", 32)+"\n", 0o600)
	src := fmt.Sprintf(`[JupyterHub]
authenticator_class = "github"
[[JupyterHub.services]]
name = "svc"
api_token_file = %q
[GitHubOAuthenticator]
client_id = "id"
client_secret_file = %q
[ConfigurableHTTPProxy]
auth_token_file = %q
[CryptKeeper]
keys_file = %q
`, token, client, proxy, keys)
	c, err := Parse([]byte(src), "hub.toml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	got := []string{
		c.JupyterHub.Services[0].APIToken.Value(),
		c.OAuthenticator.ClientSecret.Value(),
		c.ConfigurableHTTPProxy.AuthToken.Value(),
	}
	for _, k := range c.CryptKeeper.Keys {
		got = append(got, k.Value())
	}
	want := []string{"service-token", "client-secret", "proxy-token", hexKey, strings.Repeat("ab", 32)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("secrets (-want +got):\n%s", diff)
	}
}

// TestBadClientSecretFileOneError checks that a client_secret_file that
// cannot be used is reported for its cause alone, not also as a missing
// client_secret.
func TestBadClientSecretFileOneError(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	for _, tt := range []struct {
		name, path, want string
	}{
		{"mode 0644", writeSecret(t, "s3cret", 0o644), "has mode 0644"},
		{"missing", filepath.Join(dir, "missing"), "no such file or directory"},
		{"empty", writeSecret(t, "\n", 0o600), "is empty"},
		{"folder", dir, "is not a regular file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := "[JupyterHub]\nauthenticator_class = \"github\"\n[GitHubOAuthenticator]\n" +
				"client_id = \"Iv1.0123\"\nclient_secret_file = " + strconv.Quote(tt.path) + "\n"
			_, err := Parse([]byte(src), "hub.toml")
			if err == nil {
				t.Fatal("Parse accepted the client_secret_file")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %v, want the cause %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "is required") {
				t.Errorf("Parse error = %v, which also reports client_secret missing", err)
			}
		})
	}
}

func TestSecretFileModeRejected(t *testing.T) {
	clearEnv(t)
	loose := writeSecret(t, "proxy-token", 0o644)
	src := "[ConfigurableHTTPProxy]\nauth_token_file = " + strconv.Quote(loose) + "\n" +
		"[[JupyterHub.services]]\nname = \"a\"\napi_token_file = " + strconv.Quote(loose) + "\n"
	_, err := Parse([]byte(src), "hub.toml")
	if err == nil {
		t.Fatal("Parse accepted a world-readable secret file")
	}
	list := err.(ErrorList)
	var got []problem
	for _, e := range list {
		got = append(got, problem{e.Pos.String(), e.Key, e.Message})
	}
	msg := "reading secret file: " + loose + " has mode 0644, so group or others may access it: " +
		"run chmod 600 " + loose
	want := []problem{
		{"2:1", "ConfigurableHTTPProxy.auth_token_file", msg},
		{"5:1", "JupyterHub.services[0].api_token_file", msg},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if strings.Contains(err.Error(), "proxy-token") {
		t.Errorf("error %q contains the secret", err)
	}
}

func TestEnvFallbacks(t *testing.T) {
	file := writeSecret(t, "from-file", 0o600)
	tests := []struct {
		name string
		env  map[string]string
		src  string
		want OAuthenticator
	}{
		{
			"github variables",
			map[string]string{"GITHUB_CLIENT_ID": "gh-id", "GITHUB_CLIENT_SECRET": "gh-secret",
				"OAUTH_CLIENT_ID": "oauth-id", "OAUTH_CALLBACK_URL": "https://h/hub/oauth_callback"},
			"",
			OAuthenticator{ClientID: "gh-id", ClientSecret: "gh-secret",
				OAuthCallbackURL: "https://h/hub/oauth_callback"},
		},
		{
			"oauth variables when github ones are empty",
			map[string]string{"GITHUB_CLIENT_ID": "", "OAUTH_CLIENT_ID": "oauth-id",
				"OAUTH_CLIENT_SECRET": "oauth-secret"},
			"",
			OAuthenticator{ClientID: "oauth-id", ClientSecret: "oauth-secret"},
		},
		{
			"file wins over environment",
			map[string]string{"GITHUB_CLIENT_SECRET": "gh-secret", "GITHUB_CLIENT_ID": "gh-id"},
			"[GitHubOAuthenticator]\nclient_secret_file = " + strconv.Quote(file) + "\n",
			OAuthenticator{ClientID: "gh-id", ClientSecret: "from-file"},
		},
		{
			"value wins over environment",
			map[string]string{"GITHUB_CLIENT_SECRET": "gh-secret"},
			"[OAuthenticator]\nclient_id = \"cfg-id\"\nclient_secret = \"cfg-secret\"\n",
			OAuthenticator{ClientID: "cfg-id", ClientSecret: "cfg-secret"},
		},
		{
			"subclass file wins over base value",
			nil,
			"[OAuthenticator]\nclient_id = \"cfg-id\"\nclient_secret = \"base\"\n" +
				"[GitHubOAuthenticator]\nclient_secret_file = " + strconv.Quote(file) + "\n",
			OAuthenticator{ClientID: "cfg-id", ClientSecret: "from-file"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c, err := Parse([]byte("[JupyterHub]\nauthenticator_class = \"github\"\n"+tt.src), "hub.toml")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tt.want.EnablePKCE = true
			if diff := cmp.Diff(tt.want, c.OAuthenticator); diff != "" {
				t.Errorf("OAuthenticator (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEnvFallbackOtherKeys(t *testing.T) {
	clearEnv(t)
	other := strings.Repeat("cd", 32)
	t.Setenv("JPY_COOKIE_SECRET", "0011")
	t.Setenv("CONFIGPROXY_AUTH_TOKEN", "chp")
	t.Setenv("JUPYTERHUB_CRYPT_KEY", hexKey+";"+other+";")
	c, err := Parse(nil, "")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	got := []string{c.JupyterHub.CookieSecret.Value(), c.ConfigurableHTTPProxy.AuthToken.Value()}
	for _, k := range c.CryptKeeper.Keys {
		got = append(got, k.Value())
	}
	if diff := cmp.Diff([]string{"0011", "chp", hexKey, other}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestEnvFallbackInvalid(t *testing.T) {
	clearEnv(t)
	t.Setenv("JPY_COOKIE_SECRET", "zz-not-hex")
	t.Setenv("JUPYTERHUB_CRYPT_KEY", "short")
	_, err := Parse(nil, "")
	if err == nil {
		t.Fatal("Parse accepted invalid environment values")
	}
	var got []problem
	for _, e := range err.(ErrorList) {
		got = append(got, problem{e.Pos.String(), e.Key, e.Message})
	}
	want := []problem{
		{"", "CryptKeeper.keys[0] (from $JUPYTERHUB_CRYPT_KEY)",
			"invalid key: use 32 bytes as 64 hex digits or in base64, such as the output of openssl rand -hex 32"},
		{"", "JupyterHub.cookie_secret (from $JPY_COOKIE_SECRET)",
			"must be hex-encoded, such as the output of openssl rand -hex 32"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if strings.Contains(err.Error(), "zz-not-hex") {
		t.Errorf("error %q contains the secret", err)
	}
}

func TestSecretHidden(t *testing.T) {
	s := Secret("hunter2")
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "token", s)
	encoded, err := json.Marshal(struct{ T Secret }{s})
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v":   fmt.Sprintf("%v", s),
		"%s":   fmt.Sprintf("%s", s),
		"%#v":  fmt.Sprintf("%#v", s),
		"%+v":  fmt.Sprintf("%+v", struct{ T Secret }{s}),
		"slog": logged.String(),
		"json": string(encoded),
	}
	for name, out := range outputs {
		if strings.Contains(out, "hunter2") {
			t.Errorf("%s output %q shows the secret", name, out)
		}
	}
	if s.Value() != "hunter2" {
		t.Errorf("Value() = %q", s.Value())
	}
	if Secret("").String() != "" {
		t.Errorf("empty Secret prints %q, want empty", Secret("").String())
	}
}

func TestTypeErrorHidesSecret(t *testing.T) {
	clearEnv(t)
	_, err := Parse([]byte("[CryptKeeper]\nkeys = [\"fine\", 12345678]\n"), "hub.toml")
	if err == nil || strings.Contains(err.Error(), "12345678") {
		t.Errorf("error %v, want one that does not quote the secret", err)
	}
}
