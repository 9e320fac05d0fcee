"""A JupyterHub service for the tests, built on JupyterHub's own classes.

It uses jupyterhub.services.auth from the installed JupyterHub (Debian's
package, 3.0) with tornado, and reads the environment that JupyterHub gives
a service: JUPYTERHUB_API_TOKEN, JUPYTERHUB_API_URL, JUPYTERHUB_CLIENT_ID,
JUPYTERHUB_SERVICE_NAME, JUPYTERHUB_SERVICE_PREFIX and
JUPYTERHUB_SERVICE_URL, where it listens. Under the prefix it serves:

  ""               the user model as JSON, for a browser signed in with
                   HubOAuth, or for a request with a token
  "oauth_callback" the end of HubOAuth's sign-in
  "api"            the user model as JSON, for a request with a token,
                   checked with HubAuth alone (no OAuth)

It prints "listening" once it accepts connections.
"""

import json
import os
import secrets
from urllib.parse import urlparse

from tornado import ioloop, web

from jupyterhub.services.auth import (
    HubAuth,
    HubAuthenticated,
    HubOAuthCallbackHandler,
    HubOAuthenticated,
)


def write_model(handler):
    """Send the user model that the hub returned, as JSON."""
    handler.set_header("Content-Type", "application/json")
    handler.write(json.dumps(handler.get_current_user(), sort_keys=True))


class OAuthWhoAmI(HubOAuthenticated, web.RequestHandler):
    """Identifies the user by the OAuth cookie or a token."""

    @web.authenticated
    def get(self):
        write_model(self)


class TokenWhoAmI(HubAuthenticated, web.RequestHandler):
    """Identifies the user by a token only, with HubAuth."""

    # A HubAuth of its own, since HubOAuthenticated's handlers share the
    # HubOAuth singleton.
    hub_auth = HubAuth()

    @web.authenticated
    def get(self):
        write_model(self)


def main():
    prefix = os.environ["JUPYTERHUB_SERVICE_PREFIX"]
    listen = urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
    app = web.Application(
        [
            (prefix, OAuthWhoAmI),
            (prefix + "oauth_callback", HubOAuthCallbackHandler),
            (prefix + "api", TokenWhoAmI),
        ],
        cookie_secret=secrets.token_bytes(32),
    )
    app.listen(listen.port, listen.hostname)
    print("listening", flush=True)
    ioloop.IOLoop.current().start()


if __name__ == "__main__":
    main()
