"""Commands that keep the store: import, lists import, evaluate, rules publish/list,
object, decide, repair, restrict, users add/list, db upgrade/current, snapshot, audit.

Every command takes ``--db URL`` (or ``CREDITINDEX_DB``; default: the SQLite file
``var/creditindex.sqlite``). Lifecycle commands name the user who acts (``--user``).
"""

from __future__ import annotations

import datetime as dt
import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from creditindex.cli.common import DATE, emit
from creditindex.cli.spark_options import MANUAL, SPARK_OPTIONS, SparkArgs, writable_or_url
from creditindex.store.location import ENV_VAR, default_url

F = TypeVar("F", bound=Callable[..., Any])

DB = click.option("--db", "db_url", envvar=ENV_VAR, metavar="URL",
                  help="The store: sqlite:///FILE, postgresql://..., mysql://... "
                       "(default: $CREDITINDEX_DB or var/creditindex.sqlite).")
USER = click.option("--user", "user", required=True, metavar="NAME",
                    help="The user taking this step (see `creditindex users add`).")
OPTIONAL_USER = click.option("--user", "user", metavar="NAME",
                             help="The staff member doing this (default: the system user "
                                  "$CREDITINDEX_USER or system:<login>).")
RECORD = [
    click.option("--source", required=True, help="The record's source."),
    click.option("--record", "record_id", required=True, help="The record's record_id."),
]
OUT = click.option("--out", type=click.Path(dir_okay=False),
                   help="Write to FILE (.csv, .parquet, .json, .xlsx) instead of a table.")
PROGRESS = click.option("--progress/--no-progress", default=True, show_default=True,
                        help="Progress bars on standard error.")


def _refusals(func: F) -> F:
    """The store's and the service's refusals end the command with their reason (exit
    code 1)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from creditindex.service.auth import PermissionDenied
        from creditindex.service.state import ActionError
        from creditindex.store.db import StoreError

        try:
            return func(*args, **kwargs)
        except (StoreError, ActionError, PermissionDenied) as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


def _record_options(func: F) -> F:
    for option in reversed(RECORD):
        func = option(func)
    return func


def _url(db_url: str | None) -> str:
    return db_url or default_url()


@click.command("import")
@DB
@click.option("--records", "records_paths", multiple=True, type=click.Path(dir_okay=False),
              help="Penalty records (CSV, Parquet, Excel); repeatable.")
@click.option("--subjects", "subjects_path", type=click.Path(dir_okay=False),
              help="Subjects to register (subject_id, subject_type, subject_name[, country]).")
@click.option("--rules", "rules_path", type=click.Path(dir_okay=False),
              help="Check behaviour codes against this rule file instead of the published "
                   "rule set in force.")
@OPTIONAL_USER
@PROGRESS
@click.option("--today", type=DATE, hidden=True,
              help="The import day (no record may be decided after it; default today).")
@_refusals
def import_command(db_url: str | None, records_paths: tuple[str, ...],
                   subjects_path: str | None, rules_path: str | None, user: str | None,
                   progress: bool, today: dt.date | None) -> None:
    """Import penalty records (and subjects) into the store, all or nothing.

    Importing the same files again adds nothing; a file with any bad row imports
    nothing and every problem is listed."""
    from creditindex.store.importer import import_records

    if not records_paths and not subjects_path:
        raise click.UsageError("give --records FILE (one or more) and/or --subjects FILE")
    result = import_records(_url(db_url), records_paths, subjects_path=subjects_path,
                            user=user, rules_path=rules_path, today=today, progress=progress)
    if result.import_id is None:
        click.echo(f"nothing new: all {result.rows} records are already stored as they are")
        return
    line = (f"import #{result.import_id}: {result.added} new records, {result.events} "
            f"revocations/repairs filled in, {result.unchanged} already stored")
    if subjects_path:
        line += f"; {result.subjects_added} subjects registered, {result.changed} updated"
    click.echo(line)


@click.group("lists")
def lists_group() -> None:
    """External lists (debarment lists, 联合惩戒) kept in the store."""


@lists_group.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
@DB
@OPTIONAL_USER
@_refusals
def lists_import(paths: tuple[str, ...], db_url: str | None, user: str | None) -> None:
    """Import canonical list entries (new ones added, changed ones updated)."""
    from creditindex.store.importer import import_lists

    result = import_lists(_url(db_url), paths, user=user)
    if result.import_id is None:
        click.echo(f"nothing new: all {result.rows} entries are already stored as they are")
        return
    click.echo(f"import #{result.import_id}: {result.added} new entries, {result.changed} "
               f"updated, {result.unchanged} unchanged")


@click.command()
@DB
@click.option("--on", "on", type=DATE, help="The day to evaluate (default today).")
@click.option("--catch-up/--no-catch-up", default=True, show_default=True,
              help="Also evaluate the days missed since the last evaluated day.")
@OPTIONAL_USER
@PROGRESS
@SPARK_OPTIONS
@click.option("--rules", "rules_path", type=click.Path(dir_okay=False),
              help="With --engine spark: rule set TOML (default: scoring_rules/default.toml).")
@click.option("--records", "records_paths", multiple=True, type=click.Path(),
              help="With --engine spark: Parquet records (files or folders); repeatable.")
@click.option("--lists", "list_paths", multiple=True, type=click.Path(dir_okay=False),
              help="With --engine spark: canonical external list entries; repeatable.")
@click.option("--subjects", "subjects_path", type=click.Path(dir_okay=False),
              help="With --engine spark: subjects without records, at full marks.")
@MANUAL
@click.option("--out", type=click.Path(), callback=writable_or_url,
              help="With --engine spark: a new folder (or URL) for the day's Parquet answer.")
@_refusals
def evaluate(db_url: str | None, on: dt.date | None, catch_up: bool, user: str | None,
             progress: bool, engine: str, master: str | None, shards: int | None,
             state: str | None, rules_path: str | None, records_paths: tuple[str, ...],
             list_paths: tuple[str, ...], subjects_path: str | None,
             manual_path: str | None, out: str | None) -> None:
    """The daily job: compute and store the day's snapshot (catching up missed days).

    Re-running it is harmless. With ``--engine spark`` the day's answer is computed on a
    Spark cluster from Parquet records and written as Parquet to --out; the --state
    folder keeps per-shard state, so that the next day evaluates only the shards that
    received records or whose subjects reached a change point."""
    day = on or dt.date.today()
    if on is not None and on > dt.date.today():
        raise click.BadParameter(f"{on} is after today ({dt.date.today()}): a day is "
                                 "evaluated once it has come", param_hint="--on")
    if engine == "spark":
        if not state:
            raise click.UsageError("evaluate --engine spark keeps its state: give --state "
                                   "FOLDER (the same every day)")
        from creditindex.cli.spark_compute import compute_with_spark

        compute_with_spark(SparkArgs(master, shards, state), rules_path, records_paths, None,
                           list_paths, subjects_path, day, None, None, None, out,
                           manual_path)
        return
    if master or shards or state or rules_path or records_paths or list_paths \
            or subjects_path or manual_path or out:
        raise click.UsageError("--master, --shards, --state, --rules, --records, --lists, "
                               "--subjects, --manual and --out go with --engine spark "
                               "(the daily job reads the store)")
    from creditindex.store.snapshots import evaluate as run

    for r in run(_url(db_url), on, user=user, catch_up=catch_up, progress=progress):
        what = {"stored": f"stored revision {r.revision} ({r.n_subjects} subjects)",
                "unchanged": f"unchanged since revision {r.revision}",
                "current": f"already evaluated (revision {r.revision}), data unchanged"}
        click.echo(f"{r.day}: {what[r.status]}, rules {r.rules_hash[:12]}")


@click.group("rules")
def rules_group() -> None:
    """Rule-set versions: publish one, list them."""


@rules_group.command("publish")
@click.argument("path", type=click.Path(dir_okay=False))
@DB
@USER
@click.option("--effective", "effective_from", type=DATE,
              help="First day the version is in force (default today).")
@click.option("--note", help="Why this version (kept with it).")
@_refusals
def rules_publish(path: str, db_url: str | None, user: str, effective_from: dt.date | None,
                  note: str | None) -> None:
    """Publish a rule file (checked first) as a regulator; published versions never
    change."""
    from creditindex.store.rulesets import publish_rules

    v = publish_rules(_url(db_url), path, user, effective_from, note)
    state = "published" if v.new else "already published"
    click.echo(f"{state}: {v.name} {v.version} sha256 {v.content_hash[:16]}, in force from "
               f"{v.effective_from} (version #{v.id}, by {v.published_by})")


@rules_group.command("list")
@DB
@OUT
@_refusals
def rules_list(db_url: str | None, out: str | None) -> None:
    """Published rule-set versions, the one in force today marked."""
    from creditindex.store.rulesets import list_versions

    emit(list_versions(_url(db_url)), out)


@click.command("object")
@DB
@_record_options
@USER
@click.option("--reason", required=True, help="The grounds of the objection.")
@click.option("--on", "on", type=DATE, help="Day filed (default today).")
@_refusals
def object_command(db_url: str | None, source: str, record_id: str, user: str, reason: str,
                   on: dt.date | None) -> None:
    """File an objection (异议申诉) to a record; it suspends nothing by itself."""
    from creditindex.service import records, users

    url = _url(db_url)
    event = records.file_objection(url, users.account(url, user), source, record_id,
                                   on or dt.date.today(), reason)
    click.echo(f"objection #{event} to {source}/{record_id} recorded")


@click.command()
@DB
@_record_options
@USER
@click.option("--upheld/--rejected", "upheld", default=None,
              help="The outcome: upheld revokes the record from the day of the decision.")
@click.option("--on", "on", type=DATE, help="Day of the decision (default today).")
@click.option("--note", help="The decision's reasons.")
@click.option("--document-no", help="Decision document number (决定书文号).")
@_refusals
def decide(db_url: str | None, source: str, record_id: str, user: str, upheld: bool | None,
           on: dt.date | None, note: str | None, document_no: str | None) -> None:
    """Decide a record's open objection (staff)."""
    from creditindex.service import records, users

    if upheld is None:
        raise click.UsageError("give --upheld or --rejected")
    url = _url(db_url)
    d = records.decide_objection(url, users.account(url, user), source, record_id,
                                 on or dt.date.today(), upheld, note, document_no)
    outcome = "upheld: record revoked" if upheld else "rejected"
    click.echo(f"objection #{d.objection_id} to {source}/{record_id} {outcome} "
               f"(decision #{d.decision_id})")


@click.command()
@DB
@_record_options
@USER
@click.option("--applied", is_flag=True,
              help="Only record an application; without it the repair is granted.")
@click.option("--on", "on", type=DATE, help="Day of the step (default today).")
@click.option("--note", help="Grounds or remarks.")
@click.option("--document-no", help="Decision document number (决定书文号).")
@_refusals
def repair(db_url: str | None, source: str, record_id: str, user: str, applied: bool,
           on: dt.date | None, note: str | None, document_no: str | None) -> None:
    """Credit repair (信用修复): grant it (staff; refused before the behaviour's
    min_publish_days), or with --applied record an application."""
    from creditindex.service import records, users

    url = _url(db_url)
    who, day = users.account(url, user), on or dt.date.today()
    if applied:
        event = records.apply_repair(url, who, source, record_id, day, note)
        click.echo(f"repair application #{event} for {source}/{record_id} recorded")
        return
    event = records.grant_repair(url, who, source, record_id, day, note, document_no)
    click.echo(f"repair of {source}/{record_id} granted (event #{event})")


@click.command()
@DB
@click.option("--subject", "subject_id", required=True, help="Subject ID (USCC or resident ID).")
@USER
@click.option("--from", "start", type=DATE, required=True, help="First restricted day.")
@click.option("--until", type=DATE, help="Last restricted day (default: indefinite).")
@click.option("--reason", required=True, help="Why (shown with the restriction).")
@click.option("--document-no", help="Decision document number.")
@_refusals
def restrict(db_url: str | None, subject_id: str, user: str, start: dt.date,
             until: dt.date | None, reason: str, document_no: str | None) -> None:
    """Enter a manual restriction of a subject, in every role (staff)."""
    from creditindex.store.lifecycle import add_restriction

    rid = add_restriction(_url(db_url), subject_id, user=user, start=start, until=until,
                          reason=reason, document_no=document_no)
    click.echo(f"restriction #{rid} of {subject_id.strip().upper()} from {start} "
               f"{'until ' + str(until) if until else 'indefinitely'}")


@click.group("users")
def users_group() -> None:
    """Users and roles (public, staff, regulator)."""


@users_group.command("add")
@click.argument("name")
@DB
@click.option("--role", type=click.Choice(["public", "staff", "regulator"]), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--by", help="Who adds the user (default: the system user).")
@_refusals
def users_add(name: str, db_url: str | None, role: str, password_stdin: bool,
              by: str | None) -> None:
    """Add a user (the password is asked for, or read with --password-stdin)."""
    from creditindex.store.users import add_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = add_user(_url(db_url), name, role, password, by)
    click.echo(f"user {user.name} ({user.role}) added")


@users_group.command("list")
@DB
@_refusals
def users_list(db_url: str | None) -> None:
    """Every user and role."""
    from creditindex.store.users import list_users

    for u in list_users(_url(db_url)):
        state = "" if u.active else " (inactive)"
        click.echo(f"{u.name}\t{u.role}{state}")


@click.group("db")
def db_group() -> None:
    """The store's schema."""


@db_group.command("upgrade")
@DB
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@_refusals
def db_upgrade(db_url: str | None, revision: str) -> None:
    """Create or upgrade the store's schema (Alembic migrations)."""
    from creditindex.store.migrations import upgrade

    click.echo(f"schema at revision {upgrade(_url(db_url), revision)}")


@db_group.command("sample")
@DB
@_refusals
def db_sample(db_url: str | None) -> None:
    """Fill an empty store with the bundled sample data and the demo accounts."""
    from creditindex.store.db import display_url
    from creditindex.store.sample import DEMO_USERS, build_sample

    url = _url(db_url)
    if build_sample(url):
        click.echo(f"sample loaded into {display_url(url)}; demo users: "
                   + ", ".join(f"{n}/{p} ({r})" for n, p, r in DEMO_USERS))
    else:
        click.echo(f"{display_url(url)} already holds data: left as it is")


@db_group.command("current")
@DB
@_refusals
def db_current(db_url: str | None) -> None:
    """The store's schema revision and the newest this release knows."""
    from creditindex.store.db import get_engine
    from creditindex.store.migrations import current_revision, head_revision

    at = current_revision(get_engine(_url(db_url)))
    click.echo(f"schema at revision {at or '(empty database)'}; newest {head_revision()}")


@click.command()
@DB
@click.option("--on", "on", type=DATE, required=True, help="The evaluated day.")
@click.option("--rules-hash", help="Pick the evaluation by this rule set (hash prefix).")
@click.option("--revision", type=int, help="Pick this revision (default: the latest).")
@OUT
@_refusals
def snapshot(db_url: str | None, on: dt.date, rules_hash: str | None, revision: int | None,
             out: str | None) -> None:
    """A stored daily snapshot, as it was published."""
    from creditindex.store.snapshots import stored_snapshot

    emit(stored_snapshot(_url(db_url), on, rules_hash, revision), out)


@click.command()
@DB
@click.option("--entity", help="Only this table (penalty_record, import_batch, ...).")
@click.option("--key", help="Only this entity key (e.g. SOURCE/RECORD_ID).")
@OUT
@_refusals
def audit(db_url: str | None, entity: str | None, key: str | None, out: str | None) -> None:
    """The audit log: who changed what, when, before and after."""
    from creditindex.store.audit import audit_trail

    emit(audit_trail(_url(db_url), entity, key), out)


COMMANDS: list[click.Command] = [import_command, lists_group, evaluate, rules_group,
                                 object_command, decide, repair, restrict, users_group,
                                 db_group, snapshot, audit]
