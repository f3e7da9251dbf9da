"""Stopping a run safely: every output to its safe state within a bounded wall time, then
asked back over the devices' own protocols and stored as evidence.

Used on SIGINT/SIGTERM, an operator's abort or pause, and every device fault that stops a
run. Each device gets its own wall-time budget, so a dead one cannot keep the others
energised; what could not be confirmed is said so in the stored event.
"""

from __future__ import annotations

import contextlib
from typing import Any

from meterbench.runner.session import BenchSession
from meterbench.waits import within
from meterproto.link import messages as m

STEP_S = 5.0  # wall seconds per device for switching off and for asking back


async def _stop_controllers(session: BenchSession) -> dict[str, str]:
    """Every measurement function of every position stopped (their outputs idle)."""
    state: dict[str, str] = {}
    for controller_id, client in session.controllers.items():
        channels = sorted(
            p.channel for p in session.config.positions if p.controller == controller_id
        )
        try:
            for channel in channels:
                await within(client.request(m.STOP, position=channel, functions=m.FN_ALL), STEP_S)
            state[f"controller {controller_id}"] = f"stopped on {len(channels)} positions"
        except Exception as exc:  # noqa: BLE001 - said in the record, never raised
            state[f"controller {controller_id}"] = f"not confirmed ({type(exc).__name__}: {exc})"
    return state


async def safe_stop(session: BenchSession) -> dict[str, str]:
    """The kind's safe-off, every controller stopped; returns what the devices report."""
    state: dict[str, str] = {}
    try:
        await within(session.safe_off(), STEP_S)
    except TimeoutError:
        state["safe-off"] = f"did not finish within {STEP_S:g} s"
    state.update(await _stop_controllers(session))
    asker: Any = getattr(session.devices, "safe_state", None)
    if asker is not None:
        try:
            state.update(await within(asker(), STEP_S))
        except Exception as exc:  # noqa: BLE001 - said in the record
            state["devices"] = f"not confirmed ({type(exc).__name__}: {exc})"
    return state


def describe(state: dict[str, str]) -> str:
    return "; ".join(f"{name}: {value}" for name, value in state.items())


async def quietly(session: BenchSession) -> None:
    """Safe stop where nothing can be recorded any more (the store is gone)."""
    with contextlib.suppress(Exception):
        await safe_stop(session)


__all__ = ["STEP_S", "describe", "quietly", "safe_stop"]
