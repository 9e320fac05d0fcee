package config

import (
	"fmt"
	"slices"
)

// The hub rejects the keys of features it lacks, such as services that it
// starts, because ignoring them would leave a configured service not
// running. It only warns about a key that JupyterHub
// treats as a display hint, and about the internal listener's keys over
// http, where the public listener takes their place.

// unsupportedClasses are the canonical names of the classes that the key
// table describes but the hub cannot run yet. Loading rejects them, so the
// hub does not fail later at startup.
var unsupportedClasses = []string{AuthenticatorPAM, ProxyCHP}

// isSupported reports whether the hub runs the class with canonical name.
func isSupported(canonical string) bool {
	return !slices.Contains(unsupportedClasses, canonical)
}

// unsupportedServiceKeys are the service keys that the hub rejects, each
// with the reason.
var unsupportedServiceKeys = []struct{ name, reason string }{
	{"command", managedServices},
	{"environment", managedServices},
	{"cwd", managedServices},
	{"user", managedServices},
}

const managedServices = "the hub does not start services yet; run the service yourself, " +
	"with its api_token in $JUPYTERHUB_API_TOKEN (for jupyterhub-idle-culler, set the " +
	"IdleCuller options instead, such as c.IdleCuller.timeout or [IdleCuller] timeout)"

// checkUnsupported reports the keys of unsupportedServiceKeys as errors
// and the hints that have no effect as warnings.
func checkUnsupported(c *Config, b *builder) {
	h := &c.JupyterHub
	if !h.HTTPS() {
		for _, id := range []string{"JupyterHub.hub_ip", "JupyterHub.hub_port"} {
			if b.isSet(id) {
				b.warnf(b.setPos(id), b.label(id), "ignored over http: user servers and "+
					"services reach the hub on the public listener, and the internal one "+
					"opens only with ssl_cert or acme_domains")
			}
		}
	}
	for i := range h.Services {
		path := fmt.Sprintf("%s[%d]", servicesClass, i)
		for _, k := range unsupportedServiceKeys {
			id := path + "." + k.name
			if pos, ok := b.pos[id]; ok && !b.hasError(id) {
				b.errorf(pos, id, "not supported yet: %s", k.reason)
			}
		}
		if pos, ok := b.pos[path+".display"]; ok {
			b.warnf(pos, path+".display", "ignored: the home page does not list services yet")
		}
	}
}

// hasError reports whether key id has an error already, such as an invalid
// URL, which is then the one reported.
func (b *builder) hasError(id string) bool {
	for _, e := range b.errs {
		if e.Key == id {
			return true
		}
	}
	return false
}
