"""The command line: ``creditindex`` (also ``python -m creditindex``)."""

from __future__ import annotations

import os
import sys

import click

from creditindex.errors import InputError


class _Group(click.Group):
    """Bad input ends with exit code 2 and one line per problem on standard error."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except InputError as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            sys.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="creditindex")
def main() -> None:
    """Public-resource-trading credit index (公共资源交易信用指数): compute, explain,
    check and store daily credit indices from penalty records."""


_AT_ONCE: list[bool] = []  # set by a command that may end the process at once


def end_at_once() -> None:
    """Let the process end at once when this command is done (:func:`run`): a short
    command (``check``) that has written and closed everything it writes spares the
    interpreter's teardown (finalising every module it imported, polars' and numpy's
    among them), which costs about as much CPU as the command's own work."""
    _AT_ONCE.append(True)


def run() -> None:
    """The command line as a process (``creditindex``, ``python -m creditindex``). A
    command that called :func:`end_at_once` ends the process with its exit code once
    standard output and error are flushed, without the interpreter's teardown; every
    other command (and :data:`main` invoked in-process, as tests do) ends as usual."""
    try:
        main()
    except SystemExit as done:
        code = 0 if done.code is None else done.code
        if _AT_ONCE and isinstance(code, int):
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            except (OSError, ValueError):
                raise done from None  # let the interpreter report it as usual
            os._exit(code)
        raise


def _register() -> None:
    from creditindex.cli import api_commands, engine_commands, store_commands

    for module in (engine_commands, store_commands, api_commands):
        for command in module.COMMANDS:
            main.add_command(command)


_register()
