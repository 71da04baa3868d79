"""The default authenticator of ``make hub`` (NativeAuthenticator, fixed for JupyterHub 6) on a real hub.

Sign-up, then sign-in: an account no hub admin has authorised is refused with NativeAuthenticator's
message; the admin named in ``PLANECO_HUB_ADMINS`` is authorised on sign-up and reaches their
planeco gallery. Members and passwords are INVENTED TEST DATA.
"""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT = 90_000
PASSWORD = "Tr3s-long-mot-de-passe-essai"


@pytest.fixture(scope="module")
def native_hub(small_bundle_dir, tmp_path_factory):
    from planeco_kernel.hub.process import HubProcess
    from planeco_kernel.knowledge import KnowledgeBase, Member

    kb = KnowledgeBase.init(tmp_path_factory.mktemp("nativekb") / "kb", Member("chef", "Cheffe Essai", "agent", hub_user="chef"))
    env = {"PLANECO_KB": str(kb.root), "PLANECO_DATA_DIR": str(small_bundle_dir), "PLANECO_HUB_AUTHENTICATOR": "native",
           "PLANECO_HUB_ADMINS": "chef", "PLANECO_HUB_POOL_SIZE": "0"}
    with HubProcess(tmp_path_factory.mktemp("nativestate"), env) as h:
        yield h


def _sign_up(page, hub, user: str) -> str:
    page.goto(hub.url + "hub/signup")
    page.fill("#username_input", user)
    page.fill("#password_input", PASSWORD)
    if page.locator("#password_confirmation_input").count():
        page.fill("#password_confirmation_input", PASSWORD)
    page.click("#signup_submit")
    page.wait_for_load_state()
    return page.inner_text("body")


def _sign_in(page, hub, user: str) -> None:
    page.goto(hub.url + "hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit")


def test_only_authorised_accounts_sign_in(native_hub, offline_page):
    op = offline_page()
    assert "sent to the admin" in _sign_up(op.page, native_hub, "intrus")    # waits for an admin
    _sign_in(op.page, native_hub, "intrus")
    op.page.get_by_text("has not been authorized").wait_for(timeout=TIMEOUT)
    assert "/user/intrus/" not in op.page.url

    op = offline_page()
    assert "The signup was successful" in _sign_up(op.page, native_hub, "chef")   # admins are authorised
    _sign_in(op.page, native_hub, "chef")
    op.page.wait_for_url("**/user/chef/", timeout=TIMEOUT)
    op.page.locator(".planeco-card").first.wait_for(timeout=TIMEOUT)
    assert "Internal Server Error" not in native_hub.log_tail(100_000)
    assert op.blocked == []
