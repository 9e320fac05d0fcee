package hub

import (
	"io/fs"
	"net/http"
)

// register adds the hub's pages and REST API, all under h.prefix.
func (h *Hub) register(mux *http.ServeMux) {
	p := h.prefix
	page := func(pattern string, f http.HandlerFunc) {
		mux.Handle(pattern, f)
	}
	api := func(pattern string, f apiFunc) {
		mux.Handle(pattern, h.api(f))
	}

	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET "+p+"static/", http.StripPrefix(p+"static/", http.FileServerFS(static)))
	page("GET "+p+"{$}", h.handleHubRoot)
	page("GET "+p[:len(p)-1], h.handleAddSlash)
	page("GET "+p+"health", h.handleHealth)
	api("GET "+p+"metrics", h.handleMetrics)
	page("GET "+p+"login", h.handleLoginPage)
	page("POST "+p+"login", h.handleLogin)
	page("GET "+p+"logout", h.handleLogout)
	page("GET "+p+"oauth_login", h.handleOAuthLogin)
	page("GET "+p+"oauth_callback", h.handleOAuthCallback)
	page("GET "+p+"home", h.handleHome)
	page("GET "+p+"token", h.handleTokenPage)
	page("POST "+p+"token", h.handleCreateTokenPage)
	page("POST "+p+"token/{id}/revoke", h.handleRevokeTokenPage)
	page("GET "+p+"admin", h.handleAdmin)
	page("POST "+p+"admin/users", h.handleAdminAddUsers)
	page("POST "+p+"admin/users/{user}/delete", h.handleAdminDeleteUser)
	page("POST "+p+"admin/users/{user}/password", h.handleAdminSetPassword)
	page("GET "+p+"password", h.handlePasswordPage)
	page("POST "+p+"password", h.handleChangePassword)
	page("GET "+p+"spawn", h.handleSpawnSelf)
	page("POST "+p+"spawn", h.handleSpawnSelf)
	for _, suffix := range []string{"{user}", "{user}/{server}"} {
		page("GET "+p+"spawn/"+suffix, h.handleSpawn)
		page("POST "+p+"spawn/"+suffix, h.handleSpawn)
		page("GET "+p+"spawn-pending/"+suffix, h.handleSpawnPending)
		page("POST "+p+"stop/"+suffix, h.handleStopPage)
	}
	page("POST "+p+"delete-server/{user}/{server}", h.handleDeleteServerPage)
	page("GET "+p+"accept-share", h.handleAcceptSharePage)
	page("POST "+p+"accept-share", h.handleAcceptShare)
	page("POST "+p+"shares/revoke", h.handleRevokeSharePage)
	page("POST "+p+"shares/leave", h.handleLeaveSharePage)
	page(p+"user/{user}/{rest...}", h.handleUserNotRunning)
	page("GET "+p+"user-redirect/{rest...}", h.handleUserRedirect)

	page("GET "+p+"api", h.handleAPIRoot)
	page("GET "+p+"api/{$}", h.handleAPIRoot)
	page("GET "+p+"api/health", h.handleHealth)
	page("GET "+p+"api/oauth2/authorize", h.handleAuthorize)
	page("POST "+p+"api/oauth2/authorize", h.handleAuthorize)
	page("POST "+p+"api/oauth2/token", h.handleToken)
	api("GET "+p+"api/info", h.handleInfo)
	api("GET "+p+"api/user", h.handleSelf)
	api("GET "+p+"api/users", h.handleListUsers)
	api("POST "+p+"api/users", h.handleCreateUsers)
	api("GET "+p+"api/users/{name}", h.handleGetUser)
	api("POST "+p+"api/users/{name}", h.handleCreateUser)
	api("PATCH "+p+"api/users/{name}", h.handlePatchUser)
	api("DELETE "+p+"api/users/{name}", h.handleDeleteUser)
	api("POST "+p+"api/users/{name}/activity", h.handleActivity)
	api("POST "+p+"api/users/{name}/server", h.handleStartServer)
	api("DELETE "+p+"api/users/{name}/server", h.handleStopServer)
	api("GET "+p+"api/users/{name}/server/progress", h.handleProgress)
	api("POST "+p+"api/users/{name}/servers/{server}", h.handleStartServer)
	api("DELETE "+p+"api/users/{name}/servers/{server}", h.handleStopServer)
	api("GET "+p+"api/users/{name}/servers/{server}/progress", h.handleProgress)
	api("GET "+p+"api/users/{name}/tokens", h.handleListTokens)
	api("POST "+p+"api/users/{name}/tokens", h.handleCreateToken)
	api("GET "+p+"api/users/{name}/tokens/{id}", h.handleGetToken)
	api("DELETE "+p+"api/users/{name}/tokens/{id}", h.handleDeleteToken)
	api("GET "+p+"api/groups", h.handleListGroups)
	api("POST "+p+"api/groups", h.handleCreateGroups)
	api("GET "+p+"api/groups/{group}", h.handleGetGroup)
	api("POST "+p+"api/groups/{group}", h.handleCreateGroup)
	api("DELETE "+p+"api/groups/{group}", h.handleDeleteGroup)
	api("POST "+p+"api/groups/{group}/users", h.handleGroupUsers)
	api("DELETE "+p+"api/groups/{group}/users", h.handleGroupUsers)
	api("PUT "+p+"api/groups/{group}/properties", h.handleGroupProperties)
	h.registerShares(api)
	api("GET "+p+"api/proxy", h.handleGetProxy)
	api("POST "+p+"api/proxy", h.handleCheckProxy)
	api("PATCH "+p+"api/proxy", h.handlePatchProxy)
	api("POST "+p+"api/shutdown", h.handleShutdown)
	api("GET "+p+"api/authorizations/token/{token}", h.handleTokenOwner)
	api("GET "+p+"api/services", h.handleListServices)
	api("GET "+p+"api/services/{service}", h.handleGetService)
	mux.Handle(p+"api/", h.api(func(w http.ResponseWriter, r *http.Request, _ *identity) error {
		return notFound("No API endpoint %s %s", r.Method, r.URL.Path)
	}))
	page(p, func(w http.ResponseWriter, r *http.Request) {
		h.errorPage(w, r, http.StatusNotFound, "Not found", "The hub has no page at "+r.URL.Path+".")
	})
}

// registerShares adds the sharing endpoints of JupyterHub 5.0. Each path
// that ends in a server name also comes with an empty name, {$}, which
// stands for the default server.
func (h *Hub) registerShares(api func(string, apiFunc)) {
	p := h.prefix + "api/"
	api("GET "+p+"shares/{owner}", h.handleListShares)
	api("GET "+p+"share-codes/{owner}", h.handleListShareCodes)
	for _, method := range []string{"POST", "PATCH", "DELETE"} {
		api(method+" "+p+"shares/{owner}", h.handleOwnerOnly)
	}
	for _, method := range []string{"POST", "DELETE"} {
		api(method+" "+p+"share-codes/{owner}", h.handleOwnerOnly)
	}
	api("GET "+p+"users/{name}/shared", h.handleUserShared)
	api("GET "+p+"groups/{group}/shared", h.handleGroupShared)
	for _, server := range []string{"{owner}/{server}", "{owner}/{$}"} {
		api("GET "+p+"shares/"+server, h.handleListShares)
		api("POST "+p+"shares/"+server, h.handleGrantShare)
		api("PATCH "+p+"shares/"+server, h.handleRevokeShare)
		api("DELETE "+p+"shares/"+server, h.handleDeleteShares)
		api("GET "+p+"share-codes/"+server, h.handleListShareCodes)
		api("POST "+p+"share-codes/"+server, h.handleCreateShareCode)
		api("DELETE "+p+"share-codes/"+server, h.handleDeleteShareCodes)
		for _, with := range []string{"users/{name}", "groups/{group}"} {
			api("GET "+p+with+"/shared/"+server, h.handleGetReceivedShare)
			api("DELETE "+p+with+"/shared/"+server, h.handleLeaveShare)
		}
	}
}
