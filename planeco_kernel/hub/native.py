"""``jupyterhub-nativeauthenticator`` 1.3.0 made to work with JupyterHub 6.

NativeAuthenticator 1.3.0 (the latest release) predates JupyterHub 6: its login page's POST
handler times the login with ``self.statsd``, which JupyterHub 6 no longer provides, and its
``_render`` does not accept the ``sync`` argument JupyterHub 6 passes when it renders a login
error. Every sign-in then fails with HTTP 500 (found by running the real pair). This module
keeps NativeAuthenticator as it is and only replaces its login handler by a subclass that
provides both; everything else (sign-up, authorisation by an admin, password rules) is
NativeAuthenticator's own.
"""

from __future__ import annotations

from nativeauthenticator import NativeAuthenticator
from nativeauthenticator.handlers import LoginHandler as _NativeLoginHandler
from tornado.httputil import url_concat
from tornado.escape import url_escape


class _NoStats:
    """Stands for the statsd client JupyterHub 6 removed: timings are not recorded (no tracking)."""

    def timer(self, _name):
        return self

    def start(self):
        return self

    def stop(self, *args, **kwargs):
        return None

    def incr(self, *args, **kwargs):
        return None


class LoginHandler(_NativeLoginHandler):
    """NativeAuthenticator's login page, with the two JupyterHub 6 interfaces it lacks."""

    statsd = _NoStats()

    def _render(self, login_error=None, username=None, sync=False, **_kwargs):
        return self.render_template(
            "native-login.html", sync=sync,
            next=url_escape(self.get_argument("next", default="")), username=username, login_error=login_error,
            custom_html=self.authenticator.custom_html, login_url=self.settings["login_url"],
            enable_signup=self.authenticator.enable_signup, two_factor_auth=self.authenticator.allow_2fa,
            authenticator_login_url=url_concat(self.authenticator.login_url(self.hub.base_url),
                                               {"next": self.get_argument("next", "")}),
        )  # fmt: skip


class PlanecoNativeAuthenticator(NativeAuthenticator):
    """NativeAuthenticator whose login page works with JupyterHub 6 (see the module docstring)."""

    def get_handlers(self, app):
        return [(url, LoginHandler if handler is _NativeLoginHandler else handler, *rest)
                for url, handler, *rest in super().get_handlers(app)]
