"""``meterbench list benches|plans|meter-types|meter-lists``: what comes with meterbench.

Every name shown can be given where a file is expected (``--bench sim-1p-24``,
``plan show jjg596-2012-initial -m 1p-class2-5-60a``); the path column says where it lives.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from meterbench.config.locate import KINDS, describe, shipped

list_app = typer.Typer(
    help="The shipped benches, plans, meter types and meter lists, usable by name.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _command(kind_name: str) -> None:
    kind = KINDS[kind_name]

    def show(
        as_json: Annotated[bool, typer.Option("--json", help="One JSON list.")] = False,
    ) -> None:
        rows = [(name, describe(path, kind), str(path)) for name, path in shipped(kind).items()]
        if as_json:
            keys = ("name", "title", "path")
            sys.stdout.write(json.dumps([dict(zip(keys, r, strict=True)) for r in rows]) + "\n")
            return
        table = Table(title=f"shipped {kind.name}", title_justify="left")
        for column in ("name", "title"):
            table.add_column(column)
        for name, title, _ in rows:
            table.add_row(name, title)
        Console(highlight=False).print(table)

    show.__doc__ = f"The shipped {kind.name} (name and title)."
    list_app.command(kind_name)(show)


for _name in KINDS:
    _command(_name)
