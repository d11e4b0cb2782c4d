"""Commands of the award-time answer: serve (the HTTP API), apikeys add/list/revoke/uses,
certificate, verify, points formula/freeze/show, report."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from creditindex.cli.common import DATE
from creditindex.cli.store_commands import DB, _refusals, _url
from creditindex.errors import InputError, Problem

if TYPE_CHECKING:  # the command line starts without the engine's or the store's libraries
    from creditindex.certificate import RequestError


def request_input_error(exc: RequestError, where: str = "--subjects") -> InputError:
    """A refused check request as bad command-line input (exit code 2)."""
    return InputError([Problem(where, None, p.field, f"{p.value + ': ' if p.value else ''}"
                               f"{p.reason}") for p in exc.problems])


def write_certificate(payload: dict[str, object], path: str) -> Path:
    """Write a certificate to ``path``: PDF for ``.pdf``, else HTML."""
    target = Path(path)
    if target.suffix.lower() == ".pdf":
        from creditindex.pdf import certificate_pdf

        data = certificate_pdf(payload)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        tmp.replace(target)
        return target
    from creditindex.certificate import render_html
    from creditindex.output import write_text_atomic

    return write_text_atomic(target, render_html(payload))


HEALTH_CHECK_SECONDS = 120  # a server process's time to answer its supervisor


@click.command()
@DB
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--rate-limit", default=600, show_default=True, type=int,
              help="Requests per minute for keys without their own limit.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes (each keeps the store in memory; request limits "
                   "are counted across them).")
def serve(db_url: str | None, host: str, port: int, rate_limit: int, workers: int) -> None:
    """Serve the HTTP API (OpenAPI documentation at /docs)."""
    import uvicorn

    from creditindex.api.app import create_app
    from creditindex.store.db import StoreError, display_url

    url = _url(db_url)
    try:
        app = create_app(url, default_rate=rate_limit)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"creditindex API on http://{host}:{port} (docs at /docs), store "
               f"{display_url(url)}, {workers} process(es)", err=True)
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
        return
    import shutil
    import tempfile

    from creditindex.api.app import SERVE_DB, SERVE_LIMITS, SERVE_RATE

    # The processes count each key's requests in one file (request limits hold for the
    # server, not per process); in memory where the system has a memory file system.
    shm = Path("/dev/shm")
    folder = tempfile.mkdtemp(prefix="creditindex-limits-", dir=shm if shm.is_dir() else None)
    os.environ[SERVE_DB], os.environ[SERVE_RATE] = url, str(rate_limit)
    os.environ[SERVE_LIMITS] = str(Path(folder) / "limits.sqlite")
    try:
        # A process reading the store (a million records) may not answer the
        # supervisor's health check for several seconds on a busy machine: it is given
        # two minutes before it is restarted (uvicorn's default, 5 s, restarts it in the
        # middle of its first answer).
        uvicorn.run("creditindex.api.app:app_from_environment", factory=True,
                    workers=workers, host=host, port=port, log_level="warning",
                    access_log=False, timeout_worker_healthcheck=HEALTH_CHECK_SECONDS)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@click.group()
def apikeys() -> None:
    """API keys of client platforms: add, list, revoke, uses."""


@apikeys.command("add")
@DB
@click.option("--client", required=True, help="The client platform's name.")
@click.option("--scope", "scopes", multiple=True, required=True,
              help="check, read or staff; repeatable or comma-separated.")
@click.option("--rate-limit", type=int, help="Requests per minute (default: the server's).")
@click.option("--user", help="Who makes the key (audit).")
@_refusals
def apikeys_add(db_url: str | None, client: str, scopes: tuple[str, ...],
                rate_limit: int | None, user: str | None) -> None:
    """Make a key; its secret is printed once (only its sha256 is stored)."""
    from creditindex.store.apikeys import add_key

    made = add_key(_url(db_url), client, scopes, rate_limit, by=user)
    click.echo(f"key {made.key.key_id} for {made.key.client}, scopes "
               f"{' '.join(made.key.scopes)} — keep the secret, it is not shown again:",
               err=True)
    click.echo(made.secret)


@apikeys.command("list")
@DB
@_refusals
def apikeys_list(db_url: str | None) -> None:
    """Every key (never a secret)."""
    from creditindex.store.apikeys import list_keys

    for k in list_keys(_url(db_url)):
        state = "active" if k.active else f"revoked {k.revoked_at:%Y-%m-%d %H:%M}"
        click.echo(f"{k.key_id}\t{k.client}\t{' '.join(k.scopes)}\t"
                   f"{k.rate_per_minute or 'default'}/min\t{state}")


@apikeys.command("revoke")
@DB
@click.argument("key_id")
@click.option("--user", help="Who revokes the key (audit).")
@_refusals
def apikeys_revoke(db_url: str | None, key_id: str, user: str | None) -> None:
    """Revoke a key from now on."""
    from creditindex.store.apikeys import revoke_key

    k = revoke_key(_url(db_url), key_id, by=user)
    click.echo(f"revoked {k.key_id} ({k.client})")


@apikeys.command("uses")
@DB
@click.argument("key_id", required=False)
@click.option("--limit", default=50, show_default=True)
@_refusals
def apikeys_uses(db_url: str | None, key_id: str | None, limit: int) -> None:
    """Requests made with a key (or every key), newest first."""
    from creditindex.store.apikeys import key_uses

    for u in key_uses(_url(db_url), key_id, limit):
        click.echo(f"{u.at:%Y-%m-%d %H:%M:%S}\t{u.key_id}\t{u.method} {u.path}\t{u.status}\t"
                   f"{u.millis:.1f} ms" + (f"\tcheck #{u.check_id}" if u.check_id else ""))


@click.command()
@DB
@click.argument("check")
@click.option("--out", type=click.Path(dir_okay=False),
              help="Write the certificate to FILE (.pdf or .html).")
@click.option("--evidence", type=click.Path(dir_okay=False),
              help="Write the check's evidence report to FILE (HTML).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="The evidence report's language.")
@_refusals
def certificate(db_url: str | None, check: str, out: str | None, evidence: str | None,
                lang: str) -> None:
    """Write a stored check's certificate (资格核查证明) by check number or id, and/or
    its evidence report (rendered from what the check stored)."""
    from creditindex.store.checks import get_certificate

    if out is None and evidence is None:
        raise click.UsageError("give --out and/or --evidence")
    url = _url(db_url)
    found = get_certificate(url, check)
    if out is not None:
        path = write_certificate(found.payload, out)
        click.echo(f"wrote certificate {found.check_no} to {path}", err=True)
    if evidence is not None:
        from creditindex.output import write_text_atomic
        from creditindex.store.checks import get_check

        report = get_check(url, found.check_id).evidence_report(lang)
        if report is None:
            raise click.ClickException(f"check {found.check_no} stored no evidence")
        write_text_atomic(evidence, report)
        click.echo(f"wrote evidence report of {found.check_no} to {evidence}", err=True)


@click.command()
@DB
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="Print what the certificate states.")
@_refusals
def verify(db_url: str | None, code: str, as_json: bool) -> None:
    """Verify a certificate's verification code against the store (exit 1: unknown)."""
    from creditindex.service.checks import verify_certificate
    from creditindex.store.checks import verification_text

    found = verify_certificate(_url(db_url), code)
    if as_json and found is not None:
        click.echo(json.dumps(found.payload, ensure_ascii=False, indent=1))
    else:
        click.echo(verification_text(found, code))
    if found is None:
        raise SystemExit(1)


@click.group()
def points() -> None:
    """Tender credit points (信用分): formula, freeze, show."""


@points.command("formula")
@DB
@click.option("--tender", "tender_no", required=True)
@click.option("--file", "path", required=True, type=click.Path(dir_okay=False),
              help="The formula as TOML or JSON.")
@click.option("--user", help="Who sets it (audit).")
@_refusals
def points_formula(db_url: str | None, tender_no: str, path: str, user: str | None) -> None:
    """Set a tender's credit-points formula."""
    import tomllib

    from creditindex.points import FormulaError
    from creditindex.store.tenders import define_formula

    file = Path(path)
    if not file.is_file():
        raise InputError.one(path, "file not found")
    try:
        text = file.read_text(encoding="utf-8")
        raw = json.loads(text) if file.suffix.lower() == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise InputError.one(path, f"not valid {file.suffix.lstrip('.') or 'TOML'}: {exc}"
                             ) from exc
    try:
        parsed = define_formula(_url(db_url), tender_no, raw, by=user)
    except FormulaError as exc:
        raise InputError.one(path, str(exc)) from exc
    click.echo(f"tender {tender_no}: {parsed.describe()}")


@points.command("freeze")
@DB
@click.option("--tender", "tender_no", required=True)
@click.option("--bidders", required=True, help="Bidders' codes, comma-separated.")
@click.option("--deadline", required=True, type=click.DateTime(
    ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"]),
    help="Bid deadline, Shanghai time (YYYY-MM-DD HH:MM).")
@click.option("--project-no")
@click.option("--project-name")
@click.option("--lot-no")
@click.option("--lot-name")
@click.option("--user", help="Who freezes the points (a store user; default system).")
@click.option("--out", type=click.Path(dir_okay=False),
              help="Also write the committee's table (.csv or .xlsx).")
@_refusals
def points_freeze(db_url: str | None, tender_no: str, bidders: str, deadline: dt.datetime,
                  project_no: str | None, project_name: str | None, lot_no: str | None,
                  lot_name: str | None, user: str | None, out: str | None) -> None:
    """Check a tender's bidders on the deadline and freeze their credit points."""
    from creditindex.certificate import CheckRequest, RequestError
    from creditindex.store.load import load_data
    from creditindex.store.tenders import deadline_day, freeze_points

    url = _url(db_url)
    day = deadline_day(deadline)
    request = CheckRequest(subject_ids=tuple(s for s in bidders.split(",") if s.strip()),
                           on=day, known_on=day, subject_type="bidder",
                           project_no=project_no, project_name=project_name,
                           lot_no=lot_no, lot_name=lot_name)
    try:
        frozen = freeze_points(url, load_data(url, on=day), tender_no, request, deadline,
                               user=user)
    except RequestError as exc:
        raise request_input_error(exc, "--bidders") from exc
    assert frozen.check is not None
    click.echo(f"tender {tender_no}: points frozen with check {frozen.check.check_no} "
               f"(verification code {frozen.check.verify_code})", err=True)
    _show_points(frozen, out)


@points.command("show")
@DB
@click.option("--tender", "tender_no", required=True)
@click.option("--out", type=click.Path(dir_okay=False),
              help="Write the committee's table (.csv or .xlsx).")
@_refusals
def points_show(db_url: str | None, tender_no: str, out: str | None) -> None:
    """A tender's frozen points (the committee's table)."""
    from creditindex.store.tenders import frozen_points

    _show_points(frozen_points(_url(db_url), tender_no), out)


def _show_points(frozen: object, out: str | None) -> None:
    from creditindex.output import render_table
    from creditindex.points import committee_table, table_bytes
    from creditindex.store.tenders import FrozenPoints, shown_table

    assert isinstance(frozen, FrozenPoints)
    table = committee_table(shown_table(frozen.table))
    if out:
        fmt = Path(out).suffix.lower().lstrip(".")
        if fmt not in ("csv", "xlsx"):
            raise InputError.one(out, "the committee's table is written as .csv or .xlsx")
        Path(out).write_bytes(table_bytes(table, fmt))
        click.echo(f"wrote {table.height} bidders to {out}", err=True)
    click.echo(frozen.formula.describe())
    click.echo(render_table(table))


@click.command()
@DB
@click.option("--subject", "subject_id", required=True)
@click.option("--on", "on", type=DATE, required=True)
@click.option("--known-on", type=DATE)
@click.option("--staff", is_flag=True, help="The staff version: every record, marked.")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="Write the report to FILE (.pdf or .json).")
@_refusals
def report(db_url: str | None, subject_id: str, on: dt.date, known_on: dt.date | None,
           staff: bool, out: str) -> None:
    """A subject's credit report (信用报告) on a day, as PDF."""
    from creditindex.report import ReportError, report_payload
    from creditindex.store.load import load_data

    url = _url(db_url)
    try:
        payload = report_payload(load_data(url, on=on), subject_id, on, known_on,
                                 "staff" if staff else "public")
    except ReportError as exc:
        raise InputError.one("--subject", str(exc)) from exc
    target = Path(out)
    if target.suffix.lower() == ".json":
        from creditindex.output import write_text_atomic

        write_text_atomic(target, json.dumps(payload, ensure_ascii=False, indent=1))
    else:
        from creditindex.pdf import report_pdf

        target.write_bytes(report_pdf(payload))
    click.echo(f"wrote the credit report of {payload['subject_id']} on {on} to {out}",
               err=True)


COMMANDS: list[click.Command] = [serve, apikeys, certificate, verify, points, report]
