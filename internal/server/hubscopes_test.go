package server

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGrantedScopes(t *testing.T) {
	access := []string{"access:servers!server=alice/", "access:servers!user=alice"}
	tests := []struct {
		name string
		held []string
		want []string
	}{
		{"unfiltered", []string{"access:servers"}, access},
		{"the user", []string{"access:servers!user=alice"}, access},
		{"the server", []string{"access:servers!server=alice/"}, access[:1]},
		{"another server of the user", []string{"access:servers!server=alice/lab2"}, nil},
		{"another user", []string{"access:servers!user=bob"}, nil},
		{"another user's server", []string{"access:servers!server=bob/"}, nil},
		{"user name prefix", []string{"access:servers!user=ali"}, nil},
		{"a group, not resolved", []string{"access:servers!group=team"}, nil},
		{"other scopes", []string{"read:users:name!user=alice", "servers!user=alice"}, nil},
		{"bare filter", []string{"access:servers!user"}, nil},
		{"no scopes", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, grantedScopes(access, tt.held)); d != "" {
				t.Errorf("granted (-want +got):\n%s", d)
			}
		})
	}
}

func TestGrantedScopesUnfilteredRequirement(t *testing.T) {
	// A filtered scope never grants a requirement without a filter.
	if got := grantedScopes([]string{"access:servers"}, []string{"access:servers!user=alice"}); got != nil {
		t.Errorf("granted %v, want none", got)
	}
	group := []string{"access:servers!group=team"}
	if got := grantedScopes(group, group); len(got) != 1 {
		t.Errorf("the same group filter granted %v, want it", got)
	}
}

func FuzzGrantedScopes(f *testing.F) {
	f.Add("access:servers!server=alice/", "access:servers!user=alice")
	f.Add("access:servers!user", "access:servers!server=")
	f.Add("!!=", "!=/")
	f.Fuzz(func(t *testing.T, required, held string) {
		got := grantedScopes([]string{required}, []string{held})
		if required == held && len(got) == 0 && parseScope(held).value != "" {
			t.Errorf("scope %q does not grant itself", held)
		}
		if len(got) > 1 {
			t.Errorf("granted %v from one required scope", got)
		}
	})
}
