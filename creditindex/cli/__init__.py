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
