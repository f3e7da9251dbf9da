"""`meterbench lab keygen` and `meterbench lab public-key`: the lab's signing key.

The private key is written once, readable by its owner only, where the lab profile's
``[signing] key_file`` says (or ``--out``); it stays on the lab server. The public key is what
the lab publishes (its public pages, its lab profile's ``public_key``) so that anyone can
check a record's or a certificate's signature.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from meterbench.config.errors import ConfigError
from meterbench.config.lab import key_file, lab_public_key, load_lab
from meterbench.results.signing import LabKey

lab_app = typer.Typer(
    name="lab",
    help="The lab's signing key: create it, export its public half.",
    no_args_is_help=True,
)

LabOption = Annotated[
    Path, typer.Option("--lab", help="Lab profile (.toml) with a signing section.")
]


@lab_app.command("keygen")
def keygen(
    lab: LabOption,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Where to write the key (default: the profile's key_file)."),
    ] = None,
) -> None:
    """Create the lab's Ed25519 signing key; an existing key file is never overwritten."""
    profile = load_lab(lab)
    target = out or key_file(profile, lab)
    if target is None:
        raise ConfigError(f"{lab}: set [signing] key_file (where the key lives) or give --out")
    if target.exists():
        raise ConfigError(f"{target} exists; a lab key is never overwritten")
    key = LabKey.generate()
    key.save(target)
    typer.echo(f"lab key written to {target} (readable by its owner only; keep it on the server)")
    typer.echo("public key (publish it; put it in the lab profile as [signing] public_key):")
    typer.echo(key.public.text)


@lab_app.command("public-key")
def public_key(
    lab: LabOption,
    pem: Annotated[bool, typer.Option("--pem", help="PEM instead of ed25519:<base64>.")] = False,
) -> None:
    """Print the lab's public key, for publication."""
    key = lab_public_key(lab)
    if key is None:
        raise ConfigError(f"{lab} has no [signing] key_file or public_key")
    typer.echo(key.pem().rstrip() if pem else key.text)
    typer.echo(f"key id {key.key_id}", err=True)
