"""The command line: ``creditindex`` (also ``python -m creditindex``)."""

from __future__ import annotations

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


def _register() -> None:
    from creditindex.cli import api_commands, engine_commands, store_commands

    for module in (engine_commands, store_commands, api_commands):
        for command in module.COMMANDS:
            main.add_command(command)


_register()


def run() -> None:
    """The command line as a process (``creditindex``, ``python -m creditindex``): like
    :func:`main`, but a command that has written its whole answer and holds nothing that
    needs closing (``compute``, :func:`creditindex.cli.common.may_end_at_once`) ends the
    process at once: the exit handlers run and the output is flushed, but the interpreter
    is not torn down (freeing every object and module of a large answer costs a few
    tenths of a second); ``compute`` tunes polars' allocator first
    (:func:`creditindex.cli.common.tune_allocator`). Called in-process (tests,
    ``CliRunner``), :func:`main` is used and nothing changes."""
    import contextlib
    import os

    from creditindex.cli import common

    common.tune_allocator(sys.argv[1:])
    try:
        main()
    except SystemExit as done:
        if not common.ending_at_once():
            raise
        code = done.code
        if code is not None and not isinstance(code, int):
            print(code, file=sys.stderr)
            code = 1
        import atexit

        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            # a closed pipe: as at any exit, nothing more to do
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code or 0)
