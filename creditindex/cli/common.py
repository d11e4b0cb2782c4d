"""Options every command shares, and turning them into :class:`CreditData`.

Importing the command line must stay fast (``creditindex --help``): this module and the
command modules import only click at the top; the engine, polars and the store are
imported by the commands that use them (semantics §9).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from creditindex.errors import InputError

if TYPE_CHECKING:
    import polars as pl

    from creditindex.evaluate import CreditData
    from creditindex.rules import RuleSet

F = TypeVar("F", bound=Callable[..., Any])


class DateParam(click.ParamType):  # type: ignore[type-arg]
    """A date in any format the importers accept."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        from creditindex.dates import parse_date

        try:
            return parse_date(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class LazyChoice(click.Choice):  # type: ignore[type-arg]
    """One of a tuple of names defined elsewhere (``module.attribute``), read only when
    an option is parsed or its help is shown, so that the command line starts fast."""

    name = "choice"

    def __init__(self, module: str, attribute: str) -> None:
        self.case_sensitive = True
        self._where = (module, attribute)

    @property
    def choices(self) -> tuple[str, ...]:  # type: ignore[override]
        import importlib

        module, attribute = self._where
        found: tuple[str, ...] = getattr(importlib.import_module(module), attribute)
        return found


DATE = DateParam()


def writable_file(ctx: click.Context, param: click.Parameter, value: str | None
                  ) -> str | None:
    """An option callback: refuse (exit 2, before any work) an output file that cannot be
    written -- its folder cannot be made, or a file cannot be created in it."""
    if value is None:
        return None
    from creditindex.output import check_writable

    try:
        check_writable(value)
    except InputError as exc:
        raise click.BadParameter(str(exc.problems[0].reason), ctx, param) from exc
    return value


SUBJECT_TYPE = LazyChoice("creditindex.rules", "SUBJECT_TYPES")
CATEGORY_CHOICE = LazyChoice("creditindex.categories", "CATEGORIES")


def data_options(func: F) -> F:
    """``--rules``, ``--records``, ``--db``, ``--lists``: where the data comes from."""
    return _data_options(func, record_folders=False)


def data_options_with_folders(func: F) -> F:
    """:func:`data_options` whose ``--records`` may also name folders of Parquet files
    (read by ``--engine spark``; the command refuses them otherwise)."""
    return _data_options(func, record_folders=True)


_END_AT_ONCE = [False]


def may_end_at_once() -> None:
    """Said by a command once its answer is written whole and it holds nothing that needs
    closing (no store, no server, no open file): run as a process
    (:func:`creditindex.cli.run`), the process then ends without tearing the interpreter
    down."""
    _END_AT_ONCE[0] = True


def ending_at_once() -> bool:
    """Whether the command said :func:`may_end_at_once`."""
    return _END_AT_ONCE[0]


# What ``compute`` asks of polars' allocator (jemalloc, configured by this variable when
# polars is imported; polars adds it after its own settings, among them a 0.5 s decay of
# freed pages): one arena, so that memory freed by one thread is used again by the
# others instead of being given back to the system and faulted in again. 10M records:
# 1.1-1.3 million page faults instead of 1.8 million, 1-2 s less system CPU, the same
# peak (bench/README.md).
COMPUTE_ALLOCATOR = ("_RJEM_MALLOC_CONF", "narenas:1")


def tune_allocator(argv: Sequence[str]) -> None:
    """Before polars is imported, in a process about to run the command line ``argv``:
    :data:`COMPUTE_ALLOCATOR` for ``compute`` (unless the variable is set already: the
    user's settings are kept)."""
    import os

    name, value = COMPUTE_ALLOCATOR
    if argv[:1] == ["compute"] and name not in os.environ:
        os.environ[name] = value


def _data_options(func: F, record_folders: bool) -> F:
    records_help = "Penalty records (CSV, Parquet, Excel); repeatable."
    if record_folders:
        records_help += " With --engine spark: Parquet files or folders."
    options = [
        click.option("--rules", "rules_path", type=click.Path(dir_okay=False),
                     help="Rule set TOML (default: scoring_rules/default.toml)."),
        click.option("--records", "records_paths", multiple=True,
                     type=click.Path(dir_okay=record_folders), help=records_help),
        click.option("--db", "db_url", envvar="CREDITINDEX_DB",
                     help="Read the store at this database URL instead of files."),
        click.option("--lists", "list_paths", multiple=True, type=click.Path(dir_okay=False),
                     help="Canonical external list entries; repeatable."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def load_data(rules_path: str | None, records_paths: Sequence[str], db_url: str | None,
              list_paths: Sequence[str], subjects_path: str | None = None,
              today: dt.date | None = None, on: dt.date | None = None,
              subject_ids: Sequence[str] | None = None,
              manual_path: str | None = None,
              record_columns: Collection[str] | None = None,
              compact: bool = False, direct: bool = False,
              known_on: dt.date | None = None) -> CreditData:
    """Everything a command reads, from files or from the store. From the store, the rule
    set is ``rules_path`` or else the version in force on ``on`` (the day asked);
    ``subject_ids``: the command answers about these subjects only, so the store reads
    only their rows. ``manual_path``: a file of manual restrictions (added to the
    store's). ``record_columns``: the record columns the command needs from files
    (:func:`creditindex.records.read_records`; default all). ``compact``: the command
    reads the records' texts only for the rows it shows, so record files are kept
    compact when they can be (:mod:`creditindex.compact`; not with ``list_paths``,
    whose matching reads every name a subject goes by); ``known_on``: the day compact
    records will be read as known on (their row columns are found as they are read).
    ``direct``: read the store through the database's own driver where it can
    (:func:`creditindex.store.load.load_data`)."""
    import polars as pl

    from creditindex.evaluate import CreditData
    from creditindex.records import read_records, read_subjects
    from creditindex.rules import load_rules

    if db_url:
        from creditindex.store.load import load_data as load_from_store

        data = load_from_store(db_url, rules_path=rules_path, on=on, subject_ids=subject_ids,
                               direct=direct)
    else:
        rules = load_rules(rules_path)
        if not records_paths:
            raise click.UsageError("give --records FILE (one or more) or --db URL")
        found = None
        if compact and not list_paths:
            from creditindex.compact import read_compact_records
            from creditindex.days import to_day

            found = read_compact_records(records_paths, rules, today=today, known_on=(
                None if known_on is None else to_day(known_on)))
        if found is not None:
            data = CreditData(records=found.records, rules=rules, text=found.text,
                              codes=found.codes, columns=found.columns)
        else:
            data = CreditData(records=read_records(records_paths, rules, today=today,
                                                   columns=record_columns), rules=rules)
    extra_lists = _read_lists(list_paths)
    lists = data.lists
    if extra_lists is not None:
        lists = extra_lists if lists is None else pl.concat([lists, extra_lists],
                                                            how="vertical_relaxed")
    subjects = None if subjects_path is None else read_subjects(subjects_path)
    if subjects is not None and data.subjects is not None:
        subjects = pl.concat([data.subjects, subjects], how="diagonal_relaxed")
    manual = data.manual
    if manual_path is not None:
        from creditindex.manual import read_manual

        extra = read_manual(manual_path)
        manual = extra if manual is None else pl.concat([manual, extra],
                                                        how="diagonal_relaxed")
    return CreditData(records=data.records, rules=data.rules,
                      subjects=subjects if subjects is not None else data.subjects,
                      lists=lists, manual=manual, text=data.text, codes=data.codes,
                      columns=data.columns)


def _read_lists(paths: Sequence[str]) -> pl.DataFrame | None:
    if not paths:
        return None
    from creditindex.lists import read_list_entries

    entries: pl.DataFrame = read_list_entries(list(paths))
    return entries


def rules_only(rules_path: str | None) -> RuleSet:
    """The rule set named by ``--rules`` (or the default)."""
    from creditindex.rules import load_rules

    return load_rules(rules_path)


def emit(frame: pl.DataFrame | pl.LazyFrame, out: str | None, title: str | None = None
         ) -> None:
    """Write ``frame`` to ``out`` by its suffix, or print a readable table.

    What a person reads -- the terminal table and a spreadsheet (``.xlsx``) -- shows
    resident ID numbers masked by the one rule (:func:`identifiers.mask_frame`); the
    machine formats (``.csv``, ``.parquet``, ``.json``) keep identifiers whole so that
    answers can be joined back to the inputs (docs/semantics.md), with formula cells of
    CSV neutralised. A lazy frame is streamed to a CSV file (collected for anything
    else)."""
    import polars as pl

    from creditindex.identifiers import mask_frame, mask_text
    from creditindex.output import render_table, write_frame

    if isinstance(frame, pl.LazyFrame):
        if out and out.lower().endswith(".csv"):
            rows = frame.select(pl.len()).collect().item()
            path = write_frame(frame, out)
            click.echo(f"wrote {rows} rows to {path}", err=True)
            return
        frame = frame.collect()
    if out:
        shown = mask_frame(frame) if out.lower().endswith(".xlsx") else frame
        path = write_frame(shown, out)
        click.echo(f"wrote {frame.height} rows to {path}", err=True)
        return
    if title:
        click.echo(mask_text(title))
    click.echo(render_table(mask_frame(frame)))
