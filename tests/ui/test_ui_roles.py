"""Sign-in and roles: every page and every action checks the user's role on the server,
whatever the navigation shows."""

from __future__ import annotations

import pytest

from creditindex.rules import DEFAULT_RULES, parse_rules
from creditindex.service.auth import ANONYMOUS, Permission, PermissionDenied, User
from creditindex.store import sessions
from creditindex.store.audit import audit_trail
from creditindex.ui import data, nav, session
from creditindex.ui.i18n import t
from tests.ui.uihelpers import PUBLIC, REGULATOR, STAFF, TODAY, AppFactory, no_exception, page_alone

TITLES = {"rankings": "rankings.title", "profile": "profile.title",
          "eligibility": "elig.title", "imports": "import.title", "lifecycle": "life.title",
          "audit": "audit.title", "rules": "rules.title", "signin": "signin.title",
          "account": "account.title", "verify": "verify.title"}
PROTECTED = {"imports": Permission.IMPORT, "lifecycle": Permission.LIFECYCLE,
             "audit": Permission.AUDIT, "rules": Permission.RULES}


def nav_pages(user: User) -> set[str]:
    return {p.name for p in nav.visible(user)}


def test_each_role_sees_its_pages() -> None:
    public = {"rankings", "profile", "eligibility", "verify"}
    assert nav_pages(ANONYMOUS) == public | {"signin"}
    assert nav_pages(PUBLIC) == public | {"account"}
    assert nav_pages(STAFF) == public | {"imports", "lifecycle", "audit", "account"}
    assert nav_pages(REGULATOR) == public | {"rules", "audit", "account"}


@pytest.mark.parametrize("user", [None, PUBLIC, STAFF, REGULATOR],
                         ids=["anonymous", "public", "staff", "regulator"])
def test_every_page_for_every_role(app: AppFactory, user: User | None) -> None:
    who = user or ANONYMOUS
    at = app(user=user)
    no_exception(at)
    for spec in nav.PAGES:
        if spec.name in nav_pages(who):
            at.switch_page(spec.path.relative_to(nav.PAGES_DIR.parents[2]).as_posix()).run()
            no_exception(at)
            assert at.title[0].value == t(TITLES[spec.name], "zh")
            assert not at.error, (spec.name, [e.value for e in at.error])
        elif spec.permission is not None:  # the URL works, and says why it shows nothing
            at.switch_page(spec.path.relative_to(nav.PAGES_DIR.parents[2]).as_posix()).run()
            no_exception(at)
            if who.signed_in:
                assert at.error[0].value == t("auth.refused", "zh",
                                              role=t(f"role.{who.role}", "zh"))
            else:
                assert at.warning[0].value == t("auth.please_sign_in", "zh")
            assert not at.file_uploader and not at.text_area


@pytest.mark.parametrize("page", sorted(PROTECTED))
@pytest.mark.parametrize("user", [None, PUBLIC, STAFF, REGULATOR],
                         ids=["anonymous", "public", "staff", "regulator"])
def test_pages_refuse_users_without_the_permission(db: str, page: str,
                                                   user: User | None) -> None:
    who = user or ANONYMOUS
    at = page_alone(page, user)
    no_exception(at)
    if who.may(PROTECTED[page]):
        assert not at.error
    elif who.signed_in:
        assert at.error[0].value == t("auth.refused", "zh", role=t(f"role.{who.role}", "zh"))
        assert len(at.main.children) <= 3  # the refusal and nothing of the page
        assert not at.file_uploader and not at.text_area and not at.button
    else:  # a visitor is asked to sign in (with a link), and sees nothing of the page
        assert at.warning[0].value == t("auth.please_sign_in", "zh")
        assert len(at.main.children) <= 3
        assert not at.file_uploader and not at.text_area and not at.button


def test_sign_in_and_out(app: AppFactory, db: str) -> None:
    at = app(page="signin")
    assert at.table  # the demo accounts, on the sample database only
    at.text_input(key="si_user").set_value("staff")
    at.text_input(key="si_password").set_value("wrong-password")
    at.button[0].click().run()
    assert at.error[0].value == t("signin.failed", "zh")
    assert "user" not in at.session_state
    at.text_input(key="si_user").set_value("staff")
    at.text_input(key="si_password").set_value("staff-demo")
    at.button[0].click().run()
    no_exception(at)
    assert at.session_state["user"] == User("staff", "staff")
    assert at.title[0].value == t("rankings.title", "zh")
    token = at.session_state[session.TOKEN_KEY]
    assert sessions.session_user(db, token) is not None  # what a reload finds again
    at.switch_page("creditindex/ui/pages/account.py").run()
    at.button(key="acct_sign_out").click().run()
    assert "user" not in at.session_state
    assert sessions.session_user(db, token) is None  # ended in the store
    at.switch_page("creditindex/ui/pages/imports.py").run()
    assert at.warning[0].value == t("auth.please_sign_in", "zh")


def test_too_many_failed_sign_ins_lock_the_account(app: AppFactory, db: str) -> None:
    at = app(page="signin")
    for _ in range(5):
        at.text_input(key="si_user").set_value("staff")
        at.text_input(key="si_password").set_value("nope-nope")
        at.button[0].click().run()
    # a new browser session (a reload): the lock is kept in the store
    at = app(page="signin")
    at.text_input(key="si_user").set_value("staff")
    at.text_input(key="si_password").set_value("staff-demo")
    at.button[0].click().run()
    assert at.error[0].value.startswith(t("signin.locked_until", "zh", time="")[:10])
    assert "user" not in at.session_state
    assert audit_trail(db, action="signin.failed").height == 5


def test_no_demo_accounts_shown_on_a_real_database(app: AppFactory, db: str) -> None:
    from sqlalchemy import update

    from creditindex.store.db import get_engine, table, write_transaction

    users = table("app_user")
    with write_transaction(get_engine(db)) as conn:
        conn.execute(update(users).values(created_by="admin"))
    at = app(page="signin")
    assert not at.table


def test_role_comes_from_the_store_not_the_session(app: AppFactory, db: str) -> None:
    at = app(user=User("public", "regulator"))  # a session claiming a role it lacks
    assert at.session_state["user"] == User("public", "public")
    at.switch_page("creditindex/ui/pages/rules.py").run()
    assert at.error[0].value == t("auth.refused", "zh", role=t("role.public", "zh"))
    at = app(user=User("nobody", "staff"))  # an account that does not exist
    assert at.session_state["user"] == ANONYMOUS


def test_actions_refuse_on_the_server_when_called_directly(db: str) -> None:
    draft = parse_rules(DEFAULT_RULES.read_text(encoding="utf-8").replace(
        'version = "2026.1"', 'version = "2026.2"'))
    upload = [("records.csv", b"record_id\n")]
    calls = {
        Permission.IMPORT: [lambda u: data.import_upload(u, "records", upload),
                            lambda u: data.validate_upload(u, "records", upload),
                            lambda u: data.import_batches(u)],
        Permission.OBJECT: [
            lambda u: data.file_objection(u, "S", "R", TODAY, "x"),
            lambda u: data.apply_repair(u, "S", "R", TODAY, None)],
        Permission.LIFECYCLE: [
            lambda u: data.decide_objection(u, "S", "R", TODAY, True, None, None),
            lambda u: data.grant_repair(u, "S", "R", TODAY, None, None),
            lambda u: data.propose(u, "restriction.add", {"subject_id": "91440101MA59XXXX0X",
                                                          "start": TODAY,
                                                          "reason": "x"}),
            lambda u: data.decide_request(u, 1, "restriction.add", "approved"),
            lambda u: data.open_steps(u),
            lambda u: data.find_records(u, "9144"),
            lambda u: data.manual_restrictions(u)],
        Permission.AUDIT: [lambda u: data.audit_log(u)],
        Permission.RULES: [
            lambda u: data.propose(u, "rules.publish", {"text": DEFAULT_RULES.read_text(),
                                                        "effective_from": TODAY}),
            lambda u: data.decide_request(u, 1, "rules.publish", "approved"),
            lambda u: data.impact(u, draft, TODAY, TODAY)],
    }
    for user in (ANONYMOUS, PUBLIC, STAFF, REGULATOR):
        for permission, actions in calls.items():
            if user.may(permission):
                continue
            for action in actions:
                with pytest.raises(PermissionDenied):
                    action(user)
    versions = data.rule_versions()
    assert versions.height == 1  # nothing was published


def test_the_store_refuses_a_forged_user_too(db: str) -> None:
    from creditindex.store.load import load_data

    subject = load_data(db).records.get_column("subject_id")[0]
    # Past the UI's role check with a made-up role: the store checks the account itself.
    text = DEFAULT_RULES.read_text().replace('version = "2026.1"', 'version = "2099.1"')
    with pytest.raises(data.ActionError, match="regulator"):
        data.propose(User("staff", "regulator"), "rules.publish",
                     {"text": text, "effective_from": TODAY})
    with pytest.raises(data.ActionError, match="public"):
        data.propose(User("public", "staff"), "restriction.add",
                     {"subject_id": subject, "start": TODAY, "reason": "x"})


@pytest.mark.parametrize("user", [None, STAFF, REGULATOR],
                         ids=["anonymous", "staff", "regulator"])
def test_every_page_in_english(app: AppFactory, user: User | None) -> None:
    at = app(user=user, lang="en")
    for spec in nav.visible(user or ANONYMOUS):
        at.switch_page(spec.path.relative_to(nav.PAGES_DIR.parents[2]).as_posix()).run()
        no_exception(at)
        assert at.title[0].value == t(TITLES[spec.name], "en")
