"""Commands that answer from the engine: compute, history, explain, check,
validate-rules, convert, generate."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import click

from creditindex.cli.common import (
    CATEGORY_CHOICE,
    DATE,
    SUBJECT_TYPE,
    data_options,
    data_options_with_folders,
    emit,
    load_data,
    may_end_at_once,
    rules_only,
    writable_file,
)
from creditindex.cli.spark_options import (
    LOOKUP_OPTIONS,
    MANUAL,
    SPARK_OPTIONS,
    SparkArgs,
    refuse_folders,
    writable_or_url,
)
from creditindex.errors import MISSING_COLUMN, InputError, Problem

if TYPE_CHECKING:
    import polars as pl


OUT = click.option("--out", type=click.Path(dir_okay=False), callback=writable_file,
                   help="Write to FILE (.csv, .parquet, .json, .xlsx) instead of a table.")
KNOWN_ON = click.option("--known-on", type=DATE,
                        help="Answer with what was known on this day (default: the day asked).")
CATEGORY = click.option("--category", type=CATEGORY_CHOICE,
                        help="The trading category asked about (default: any category, "
                             "the strictest answer).")
FINANCIER = click.option("--financier",
                         help="The lender financing the project (e.g. worldbank): its own "
                              "debarment list then applies.")


@click.command()
@data_options_with_folders
@click.option("--on", "on", type=DATE, required=True, help="The day to evaluate.")
@KNOWN_ON
@click.option("--subjects", "subjects_path", type=click.Path(dir_okay=False),
              help="Subjects without records to include at full marks "
                   "(subject_id, subject_type, subject_name[, country]).")
@MANUAL
@CATEGORY
@FINANCIER
@click.option("--out", type=click.Path(dir_okay=False), callback=writable_or_url,
              help="Write to FILE (.csv, .parquet, .json, .xlsx) instead of a table; with "
                   "--engine spark a new folder (or URL) for Parquet.")
@SPARK_OPTIONS
def compute(rules_path: str | None, records_paths: tuple[str, ...], db_url: str | None,
            list_paths: tuple[str, ...], on: dt.date, known_on: dt.date | None,
            subjects_path: str | None, manual_path: str | None, category: str | None,
            financier: str | None, out: str | None, engine: str, master: str | None,
            shards: int | None, state: str | None) -> None:
    """Every subject's index, grade, watch level, rank and restriction on a day.

    With ``--engine spark`` the same engine runs on a Spark cluster: records from
    Parquet (files or folders), the answer written as Parquet to the new folder --out."""
    if engine == "spark":
        from creditindex.cli.spark_compute import compute_with_spark

        compute_with_spark(SparkArgs(master, shards, state), rules_path, records_paths,
                           db_url, list_paths, subjects_path, on, known_on, category,
                           financier, out, manual_path)
        return
    refuse_folders(records_paths, "--records")
    if master or shards or state:
        raise click.UsageError("--master, --shards and --state go with --engine spark")
    from creditindex import evaluate
    from creditindex.records import SCORING_COLUMNS

    # The data is handed over, not kept: compute lets the records go once read.
    # Written to CSV by a streaming sink: the reasons' texts are made a part at a time.
    emit(evaluate.compute_lazy(load_data(rules_path, records_paths, db_url, list_paths,
                                         subjects_path, on=on, manual_path=manual_path,
                                         record_columns=SCORING_COLUMNS, compact=True,
                                         known_on=known_on or on),
                               on, known_on, category=category, financier=financier), out)
    if db_url is None:  # files only: nothing left open
        may_end_at_once()


@click.command()
@data_options
@click.option("--subject", "subject_id", required=True, help="Subject ID (USCC or resident ID).")
@click.option("--type", "subject_type", type=SUBJECT_TYPE, help="Role (default: lowest index).")
@click.option("--from", "start", type=DATE, help="First day (default: first decision).")
@click.option("--to", "end", type=DATE, help="Last day (default: today).")
@KNOWN_ON
@OUT
def history(rules_path: str | None, records_paths: tuple[str, ...], db_url: str | None,
            list_paths: tuple[str, ...], subject_id: str, subject_type: str | None,
            start: dt.date | None, end: dt.date | None, known_on: dt.date | None,
            out: str | None) -> None:
    """One subject's index, grade and restriction, day by day."""
    from creditindex import evaluate

    data = load_data(rules_path, records_paths, db_url, list_paths,
                     subject_ids=[subject_id])
    first, last = evaluate.default_history_range(data, subject_id, end or dt.date.today())
    start = start or first
    end = end or last
    if start > end:
        raise click.BadParameter(f"--from {start} is after --to {end}")
    emit(evaluate.history(data, subject_id, start, end, subject_type, known_on), out)


@click.command()
@data_options
@click.option("--subject", "subject_id", required=True, help="Subject ID (USCC or resident ID).")
@click.option("--on", "on", type=DATE, required=True, help="The day to explain.")
@click.option("--type", "subject_type", type=SUBJECT_TYPE, help="Only this role.")
@KNOWN_ON
@OUT
def explain(rules_path: str | None, records_paths: tuple[str, ...], db_url: str | None,
            list_paths: tuple[str, ...], subject_id: str, on: dt.date,
            subject_type: str | None, known_on: dt.date | None, out: str | None) -> None:
    """Every deduction counted for a subject on a day, and why."""
    from creditindex import evaluate

    data = load_data(rules_path, records_paths, db_url, list_paths, on=on,
                     subject_ids=[subject_id])
    sid = subject_id.strip().upper()
    rows = evaluate.explain(data, sid, on, known_on, subject_type)
    if out:
        emit(rows.select(evaluate.EXPLAIN_COLUMNS), out)
        return
    answer = evaluate.check(data, on, [sid], subject_type, known_on=known_on).table.row(
        0, named=True)
    state = "eligible" if answer["eligible"] else f"RESTRICTED: {answer['reasons']}"
    header = data.rules.ruleset
    title = (f"{sid} on {on}: index {answer['index']:.2f}, grade {answer['grade']}, {state}\n"
             f"rule set {header.name} {header.version} "
             f"(sha256 {data.rules.content_hash[:16]}); {rows.height} deduction(s) counted")
    emit(rows.select(*evaluate.EXPLAIN_COLUMNS, "behaviour_name"), None, title)


@click.command()
@data_options_with_folders
@click.option("--on", "on", type=DATE, required=True, help="The day of the check.")
@click.option("--subjects", "subject_list", help="Subject IDs, comma-separated.")
@click.option("--subjects-file", type=click.Path(dir_okay=False),
              help="A file with a subject_id column (or one ID per line); optional "
                   "subject_name and country columns name the subjects for list matching.")
@click.option("--type", "subject_type", type=SUBJECT_TYPE, help="Role for index and grade.")
@click.option("--consortium", is_flag=True, help="Check the subjects as one consortium (联合体).")
@CATEGORY
@FINANCIER
@KNOWN_ON
@click.option("--evidence", type=click.Path(dir_okay=False), callback=writable_file,
              help="Write a self-contained HTML evidence report of this check.")
@click.option("--user", help="Who asks (recorded with the check when reading --db).")
@click.option("--project-no", help="Project number (项目编号), on the certificate.")
@click.option("--project-name", help="Project name, on the certificate.")
@click.option("--lot-no", help="Lot number (标段编号), on the certificate.")
@click.option("--lot-name", help="Lot name, on the certificate.")
@click.option("--certificate", "certificate_path", type=click.Path(dir_okay=False),
              callback=writable_file,
              help="With --db: write the check certificate (资格核查证明) to FILE "
                   "(.pdf or .html).")
@MANUAL
@OUT
@LOOKUP_OPTIONS
def check(rules_path: str | None, records_paths: tuple[str, ...], db_url: str | None,
          list_paths: tuple[str, ...], on: dt.date, subject_list: str | None,
          subjects_file: str | None, subject_type: str | None, consortium: bool,
          category: str | None, financier: str | None,
          known_on: dt.date | None, evidence: str | None, user: str | None,
          project_no: str | None, project_name: str | None, lot_no: str | None,
          lot_name: str | None, certificate_path: str | None, manual_path: str | None,
          out: str | None, engine: str, master: str | None, shards: int | None) -> None:
    """Eligibility of subjects (or a consortium) on a day, with every ground. With --db
    the check is stored and certified (check number and verification code). With
    ``--engine spark`` the asked subjects' records are read from Parquet on a Spark
    cluster (only theirs) and the answer is the same engine's.

    Everything that can be refused is refused before anything is computed, written or
    stored: IDs that fail their check, too many subjects, an unknown --user, an output or
    evidence file that cannot be written."""
    import polars as pl

    from creditindex.certificate import CheckRequest, RequestError, run_check
    if engine != "spark":  # (a Spark session is stopped by its own exit handlers)
        may_end_at_once()  # everything written is closed by the time the command returns
    from creditindex.cli.api_commands import request_input_error, write_certificate

    asked = _asked_subjects(subject_list, subjects_file)
    ids = asked.get_column("subject_id").to_list()
    _refuse_too_many(ids, subjects_file or "--subjects")
    if db_url and user:
        from creditindex.store.users import refuse_unknown_user

        refuse_unknown_user(db_url, user)
    named = asked.filter(pl.col("subject_name").is_not_null())
    located = asked.filter(pl.col("country").is_not_null())
    request = CheckRequest(subject_ids=tuple(ids), on=on, known_on=known_on,
                           subject_type=subject_type, consortium=consortium,
                           category=category, financier=financier,
                           project_no=project_no, project_name=project_name, lot_no=lot_no,
                           lot_name=lot_name,
                           names=dict(named.select("subject_id", "subject_name").iter_rows()),
                           countries=dict(located.select("subject_id", "country").iter_rows()))
    if certificate_path and not db_url:
        raise click.UsageError("--certificate needs --db: a certificate is of a stored check")
    if engine == "spark":
        from creditindex.cli.spark_compute import check_data_with_spark

        data = check_data_with_spark(master, shards, rules_path, records_paths, db_url,
                                     list_paths, manual_path, ids)
    else:
        refuse_folders(records_paths, "--records")
        if master or shards:
            raise click.UsageError("--master and --shards go with --engine spark")
        # A check reads its subjects' rows and stores one check: through the database's
        # own driver where it can (SQLite, PostgreSQL), without importing SQLAlchemy.
        data = load_data(rules_path, records_paths, db_url, list_paths, on=on,
                         subject_ids=ids, manual_path=manual_path, direct=True)
    if db_url:
        from creditindex.store.checks import issue_check
        from creditindex.store.db import StoreError

        try:
            issued = issue_check(db_url, data, request, user=user, channel="cli",
                                 direct=True)
        except RequestError as exc:
            raise request_input_error(exc) from exc
        except StoreError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"check saved in the store as #{issued.id}, number {issued.check_no}, "
                   f"verification code {issued.verify_code}", err=True)
        if certificate_path:
            write_certificate(issued.certificate, certificate_path)
            click.echo(f"wrote certificate to {certificate_path}", err=True)
        if evidence:
            from creditindex.output import write_text_atomic
            from creditindex.store.checks import get_check

            write_text_atomic(evidence, get_check(db_url, issued.id).evidence_report() or "")
            click.echo(f"wrote evidence report to {evidence}", err=True)
        emit(issued.result.table, out)
        return
    try:
        result = run_check(data, request)
    except RequestError as exc:
        raise request_input_error(exc) from exc
    inputs = {"rules": rules_path, "records": list(records_paths), "db": db_url,
              "lists": list(list_paths), "subjects": ids, "type": subject_type,
              "consortium": consortium, "category": category, "financier": financier,
              "manual": manual_path, "engine": engine}
    if evidence:
        from creditindex.evidence import write_evidence

        write_evidence(result, data, Path(evidence), inputs=inputs)
        click.echo(f"wrote evidence report to {evidence}", err=True)
    emit(result.table, out)


def _refuse_too_many(ids: list[str], source: str) -> None:
    """Bad input: no subject, or more in one request than the limit allows."""
    from creditindex.limits import current, env_name

    limit = current().max_subjects
    if not ids:
        raise InputError.one(source, "no subject ID given")
    if len(ids) > limit:
        raise InputError.one(source, f"{len(ids):,} subjects in one request exceed the limit "
                                     f"of {limit:,} (set {env_name('max_subjects')} to change "
                                     "it)")


def _refuse_bad_ids(ids: list[str], source: str, subject_type: str | None) -> None:
    """Bad input (exit 2, nothing certified): no ID, too many, or one that cannot name a
    subject of ``subject_type``."""
    from creditindex.identifiers import public_id, subject_id_problem

    _refuse_too_many(ids, source)
    problems = []
    for sid in ids:
        why = subject_id_problem(sid.strip().upper(), subject_type)
        if why is not None:
            problems.append(Problem(source, None, "subject_id",
                                    f"'{public_id(sid.strip().upper())}': {why}"))
    if problems:
        raise InputError(problems)


def _asked_subjects(subject_list: str | None, subjects_file: str | None) -> pl.DataFrame:
    """The subjects a check asks about: ``subject_id`` (checked: a code that fails its
    check is bad input) and, from a file, ``subject_name`` and ``country`` where given."""
    import polars as pl

    from creditindex.identifiers import id_problem
    from creditindex.lists import CHINA, normalise_country

    source = subjects_file or "--subjects"
    frame: pl.DataFrame | None = None
    if subjects_file and Path(subjects_file).suffix.lower() in (".csv", ".xlsx", ".parquet",
                                                                ".xls"):
        from creditindex.records import read_table

        table = read_table(subjects_file)
        if "subject_id" in table.columns:
            keep = [c for c in ("subject_id", "subject_name", "country") if c in table.columns]
            frame = table.select(keep).with_row_index("_row", offset=2).filter(
                pl.col("subject_id").is_not_null())
    if frame is None:
        ids = _subject_ids(subject_list, subjects_file)
        frame = pl.DataFrame({"subject_id": ids}, schema={"subject_id": pl.String}
                             ).with_row_index("_row", offset=1)
    for c in ("subject_name", "country"):
        if c not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(c))
    frame = frame.with_columns(pl.col("subject_id").str.strip_chars().str.to_uppercase())
    problems = []
    for row, sid, country in frame.select("_row", "subject_id", "country").iter_rows():
        if country is not None and normalise_country(country) != CHINA:
            continue  # a foreign firm has no USCC: it is named for list matching
        why = id_problem(sid)
        if why is not None:
            problems.append(Problem(source, row if subjects_file else None,
                                    "subject_id" if subjects_file else f"subject {sid}", why))
    if problems:
        raise InputError(problems)
    return frame.drop("_row").unique("subject_id", keep="first", maintain_order=True)


def _subject_ids(subject_list: str | None, subjects_file: str | None) -> list[str]:
    if bool(subject_list) == bool(subjects_file):
        raise click.UsageError("give exactly one of --subjects ID[,ID...] or --subjects-file F")
    if subject_list:
        return [s.strip() for s in subject_list.split(",") if s.strip()]
    assert subjects_file is not None
    path = Path(subjects_file)
    if not path.exists():
        raise InputError.one(subjects_file, "file not found")
    from creditindex.readers import EXCEL_SUFFIXES, PARQUET_SUFFIXES, decode_text, read_table

    if path.suffix.lower() in (".csv", *EXCEL_SUFFIXES, *PARQUET_SUFFIXES):
        table = read_table(path)
        if "subject_id" in table.columns:
            return [s for s in table.get_column("subject_id").drop_nulls().to_list()]
        if path.suffix.lower() != ".csv":
            raise InputError.one(subjects_file, MISSING_COLUMN, row=1,
                                 column="subject_id")
    from creditindex.limits import current

    if path.stat().st_size > current().max_file_bytes:
        read_table(path)  # refused with the limit's message
    text = decode_text(path.read_bytes(), subjects_file)
    return [line.strip() for line in text.splitlines()
            if line.strip() and line.strip() != "subject_id"]


@click.command()
@data_options
@click.option("--on", "on", type=DATE, required=True, help="The day of the draw.")
@click.option("--experts-file", required=True, type=click.Path(dir_okay=False),
              help="The pool: a file with a subject_id column (or one ID per line).")
@KNOWN_ON
@OUT
def pool(rules_path: str | None, records_paths: tuple[str, ...], db_url: str | None,
         list_paths: tuple[str, ...], on: dt.date, experts_file: str,
         known_on: dt.date | None, out: str | None) -> None:
    """Experts of a pool who may be drawn on a day; those left out, with reasons."""
    import polars as pl

    from creditindex import evaluate

    experts = _subject_ids(None, experts_file)
    _refuse_bad_ids(experts, experts_file, "expert")  # a USCC or garbage is no expert
    data = load_data(rules_path, records_paths, db_url, list_paths, on=on, subject_ids=experts)
    drawable, left_out = evaluate.expert_pool(data, on, experts, known_on)
    if out:
        emit(pl.concat([drawable.with_columns(pl.lit(True).alias("drawable"),
                                              pl.lit("").alias("reasons")),
                        left_out.with_columns(pl.lit(False).alias("drawable"))],
                       how="diagonal"), out)
        return
    emit(drawable, None, f"{drawable.height} expert(s) may be drawn on {on}:")
    emit(left_out, None, f"{left_out.height} left out:")


@click.command("validate-rules")
@click.argument("path", type=click.Path(dir_okay=False))
def validate_rules(path: str) -> None:
    """Check a rule set file; print a summary or every problem."""
    rules = rules_only(path)
    per_type = {t: sum(t in b.subject_types for b in rules.behaviour)
                for t in ("bidder", "agent", "tenderer", "expert")}
    click.echo(f"{path}: OK — rule set {rules.ruleset.name} {rules.ruleset.version}, "
               f"sha256 {rules.content_hash[:16]}")
    click.echo(f"  base {rules.ruleset.base}, floor {rules.ruleset.floor}; grades "
               + ", ".join(f"{g.name}≥{g.min}{' (restricted)' if g.restricted else ''}"
                           for g in rules.grade))
    click.echo(f"  {len(rules.behaviour)} behaviours: "
               + ", ".join(f"{t} {n}" for t, n in per_type.items()))
    if rules.expert_suspension:
        s = rules.expert_suspension
        click.echo(f"  expert suspension: single {s.single_points} or {s.total_points} in "
                   f"{s.window_days} days suspends for {s.suspend_days} days")


@click.command()
@click.argument("source", type=click.Path(dir_okay=False))
@click.option("--mapping", required=True, type=click.Path(dir_okay=False),
              help="Mapping file (TOML) from the source's columns to canonical ones.")
@click.option("--rules", "rules_path", type=click.Path(dir_okay=False),
              help="Rule set whose behaviour codes records must use (default rules).")
@OUT
def convert(source: str, mapping: str, rules_path: str | None, out: str | None) -> None:
    """Convert a source file to canonical records or list entries with a mapping file."""
    from creditindex.convert import convert as run_convert

    emit(run_convert(source, mapping, rules=rules_only(rules_path), today=dt.date.today()), out)


@click.command()
@click.option("--subjects", "n_subjects", type=int, default=5000, show_default=True)
@click.option("--records", "n_records", type=int, default=8000, show_default=True)
@click.option("--seed", type=int, default=20261126, show_default=True)
@click.option("--rules", "rules_path", type=click.Path(dir_okay=False))
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True,
              help="Folder to write records.csv and subjects.csv into.")
def generate(n_subjects: int, n_records: int, seed: int, rules_path: str | None,
             out_dir: str) -> None:
    """Generate realistic synthetic subjects and penalty records."""
    from creditindex.generate import write_sample

    write_sample(Path(out_dir), n_subjects=n_subjects, n_records=n_records, seed=seed,
                 rules=rules_only(rules_path))
    click.echo(f"wrote {n_records} records for {n_subjects} subjects to {out_dir}", err=True)


COMMANDS: list[click.Command] = [compute, history, explain, check, pool, validate_rules,
                                 convert, generate]

