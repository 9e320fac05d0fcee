package hub

import (
	"net/http"

	"github.com/jupygo/jupygo/internal/hub/auth"
	"github.com/jupygo/jupygo/internal/store"
)

// checkSameAccount rejects the sign-in of signed as the existing user u
// when u's stored auth state names another account of the same provider,
// such as another GitHub user id. A renamed GitHub account frees its
// login for anyone, so a new person with the old login would otherwise get
// the user, its servers and its files. On rejection it logs the ids,
// writes a 403 page and returns false.
func (h *Hub) checkSameAccount(w http.ResponseWriter, r *http.Request, u store.User,
	signed auth.User) bool {
	stored, ok := auth.AccountIDFromAuthState(u.AuthState)
	if !ok {
		return true
	}
	current, ok := auth.AccountIDFromAuthState(signed.AuthState)
	if !ok || current.Issuer != stored.Issuer || current.ID == stored.ID {
		return true
	}
	service := "the provider"
	if ra, ok := h.auth.(auth.RedirectAuthenticator); ok {
		service = ra.LoginService()
	}
	h.log.Warn("sign-in rejected: the user belongs to another account of the provider; "+
		"if the login changed hands, delete the user on the admin page, and with "+
		"spawner_class localprocess also the system account of the same name",
		"user", u.Name, "issuer", stored.Issuer, "stored_id", stored.ID, "id", current.ID,
		"remote", clientAddr(r))
	h.errorPage(w, r, http.StatusForbidden, "Not allowed",
		"User "+u.Name+" of this hub belongs to another "+service+" account, which had "+
			"this login before. Logins can change hands when an account is renamed, so "+
			"this sign-in was rejected. Ask the hub's administrator: if the login now "+
			"belongs to you, the administrator deletes user "+u.Name+" on the admin page, "+
			"and moves or deletes the files of the old account, such as the system account "+
			u.Name+" and its home folder when servers run as system accounts. Then sign "+
			"in again.")
	return false
}
