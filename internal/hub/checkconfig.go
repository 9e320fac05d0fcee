package hub

import (
	"fmt"

	"github.com/jupygo/jupygo/internal/hub/config"
)

// checkConfig validates the parts of the configuration that config.Parse
// cannot check, because they need the hub's scopes. New calls it, so that
// a hub with an invalid configuration stores nothing. It returns every
// problem in a config.ErrorList.
func checkConfig(cfg *config.Config) error {
	var errs config.ErrorList
	for i, r := range cfg.JupyterHub.LoadRoles {
		// As JupyterHub 3.0 does, an unknown scope or filter stops the start.
		if err := checkScopesExist(r.Scopes); err != nil {
			key := fmt.Sprintf("JupyterHub.load_roles[%d].scopes", i)
			errs = append(errs, cfg.ErrorAt(key, "role %q: %v", r.Name, err))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}
