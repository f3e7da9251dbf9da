"""``meterbench firmware build|flash|info``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import serial
import typer

from meterbench.firmware_tools import build as build_mod

# What an unreachable or wrong port raises: no such device, not a controller, nothing answers.
PORT_ERRORS = (serial.SerialException, OSError, ValueError)

app = typer.Typer(
    help="Build, flash and inspect the bench-controller firmware.", no_args_is_help=True
)

OutOption = Annotated[Path, typer.Option("--out", help="Build directory.")]
ArchOption = Annotated[str, typer.Option("--arch", help=f"Target: {', '.join(build_mod.ARCHES)}.")]
BaudOption = Annotated[int, typer.Option("--baudrate", help="Link and REPL baud rate.")]
DEFAULT_OUT = Path("build/firmware")


@app.command()
def build(out: OutOption = DEFAULT_OUT, arch: ArchOption = "bytecode") -> None:
    """Compile the firmware and its meterproto modules to .mpy and write manifest.json."""
    result = _build(out, arch)
    typer.echo(
        f"built {len(result.files)} files into {result.out}: version {result.version}, "
        f"hash {result.hash}"
    )


def _fail(message: str, code: int) -> NoReturn:
    """One line on stderr and an exit status, never a traceback."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _build(out: Path, arch: str) -> build_mod.Build:
    try:
        return build_mod.build(out, arch)
    except (ValueError, RuntimeError) as exc:
        _fail(_one_line(exc), 2)


@app.command()
def flash(
    port: Annotated[str | None, typer.Option("--port", help="Controller URL or device.")] = None,
    bench: Annotated[
        str | None, typer.Option("--bench", help="Flash every controller of this bench file.")
    ] = None,
    out: OutOption = DEFAULT_OUT,
    arch: ArchOption = "bytecode",
    baudrate: BaudOption = 115200,
) -> None:
    """Build, upload with mpremote (staged, verified, then switched), reset, and confirm the
    new version over the link HELLO. A failed upload leaves the previous firmware running."""
    try:
        from mpremote.transport import TransportError

        from meterbench.firmware_tools.flash import FlashError
        from meterbench.firmware_tools.flash import flash as do_flash
    except ModuleNotFoundError as exc:  # mpremote comes with the firmware extra
        _fail(
            f"{exc.name} is not installed: install the firmware tools with "
            "pip install 'meterbench[firmware]'",
            2,
        )
    from meterbench.devices.controller import ControllerError

    targets = _targets(port, bench, baudrate)
    result = _build(out, arch)
    failed = 0
    for name, url, baud in targets:
        try:
            report = do_flash(url, result, baud)
        except FlashError as exc:
            _fail(f"{name}: {exc}", 1)
        except (ControllerError, TransportError, *PORT_ERRORS) as exc:
            _fail(f"{name}: no board answers at {url}: {_one_line(exc)}", 2)
        state = "confirmed" if report.confirmed else "MISMATCH"
        typer.echo(
            f"{name}: wrote {report.written} files, HELLO reports {report.reported_hash} "
            f"(expected {report.expected_hash}): {state}"
        )
        failed += not report.confirmed
    if failed:
        raise typer.Exit(1)


def _targets(port: str | None, bench: str | None, baudrate: int) -> list[tuple[str, str, int]]:
    if port is not None and bench is None:
        return [(port, port, baudrate)]
    if port is not None or bench is None:
        raise typer.BadParameter("give exactly one of --port or --bench")
    from meterbench.config.bench import load_bench
    from meterbench.config.locate import BENCHES, locate

    config = load_bench(locate(bench, BENCHES))
    return [(c.id, c.url, c.baudrate) for c in config.controllers]


@app.command()
def info(
    port: Annotated[str, typer.Option("--port", help="Controller URL or device.")],
    baudrate: BaudOption = 115200,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print what a controller reports: HELLO (versions, board, capabilities) and STATUS."""
    from meterbench.devices.controller import ControllerError

    try:
        data = asyncio.run(_info(port, baudrate))
    except (ControllerError, *PORT_ERRORS) as exc:
        _fail(f"no controller answers at {port}: {_one_line(exc)}", 2)
    if as_json:
        typer.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    for section, fields in data.items():
        typer.echo(f"[{section}]")
        for key, value in fields.items():
            typer.echo(f"  {key:16} {value}")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[-1]


async def _info(port: str, baudrate: int) -> dict[str, dict[str, Any]]:
    from meterbench.devices.controller import ControllerClient

    client = await ControllerClient.open(port, baudrate, retries=1)
    try:
        hello = await client.hello()
        status = await client.status()
    finally:
        await client.close()

    def plain(fields: dict[str, Any]) -> dict[str, Any]:
        return {k: v.decode() if isinstance(v, bytes) else v for k, v in fields.items()}

    return {"hello": plain(hello.fields), "status": plain(status.fields)}
