"""Meter kinds: the seam that keeps the engine, the store, the CLI, the self-test, the bench
test suite and the reports free of any "which kind is this bench?".

A kind (electricity, water; heat and gas next) is one package under ``meterbench.kinds`` with a
``MeterKind`` registered here, looked up by the bench file's ``[bench] kind``. Everything that
differs between kinds lives in that package and is reached through the ``MeterKind``:

- ``section_model``: its own top-level tables of the bench file (electricity: ``[source]``;
  water: ``[water]``), and ``check_bench`` for rules between them and the common bench (the
  standard's constant of an electricity bench, the valve channels of a water bench);
  ``endpoints`` names their URLs so a simulated bench can replace them;
- ``meter_type_model``: the meter types its benches take (the meter list is checked against it);
- ``plan_context``: what the plan expansion needs to know about the bench;
- ``open_devices``: the devices only it has, opened after the shared ones (controllers, meter
  buses) by ``runner.session.open_session``, with their ``safe_off`` and ``close``;
  ``meter_client``: the client of a meter on a bus, for the meter types that have one;
- ``executors``: its items (plan step type -> coroutine), and each plan step model knows its
  planned steps (``plan.model``'s ``planned()``), so the engine never dispatches on step types;
- ``simulator``: its simulated bench, started by ``bench_open.open_bench`` for ``sim://``
  benches (the engine never imports ``meterbench.sim``);
- ``selftest``: its commissioning checks beside the shared controller checks;
- ``stop_hint``: what the operator must fix when its devices stop a run, and
  ``reference_text``: how records print its reference (from the stored bench snapshot).

Adding a kind is a recipe: write those pieces in ``kinds/<kind>/``, ``register()`` it (built-in
kinds are registered at the bottom of this module), and run the same engine. The test
``host/tests/test_kind_seam.py`` registers a toy kind from inside the test and runs it. Not yet
behind the seam: a new kind's meter-type file format, plan items and their expansion by its
regulation are still declared beside the others in ``config/meter_types.py``,
``config/plans.py`` and ``plan/``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel

if TYPE_CHECKING:
    from meterbench.clock import Clock
    from meterbench.config.bench import BenchConfig
    from meterbench.plan.bench import BenchContext
    from meterbench.runner.context import RunContext
    from meterbench.runner.items import PlannedStep
    from meterbench.runner.meters import MeterEntry
    from meterbench.runner.session import OpenOptions
    from meterbench.selftest import Check, Devices, MeterInfo, Options
    from meterbench.transport.bus import Bus

Executor = Callable[["RunContext", "PlannedStep"], Awaitable[None]]


class KindDevices(Protocol):
    """The devices only this kind's benches have (a source, a pump and valves, ...)."""

    async def safe_off(self) -> None:
        """Nothing energised or flowing: after every run and on every stop."""
        ...

    async def close(self) -> None: ...


class Simulator(Protocol):
    """A kind's simulated bench, started on ptys; ``start`` returns the resolved config."""

    clock: Clock
    meter_types: dict[int, Any]

    async def start(self) -> BenchConfig: ...

    async def stop(self) -> None: ...

    def address_for(self, position: int) -> str | None: ...

    def describe(self) -> dict[str, Any]: ...


class MeterKind(Protocol):
    """What a kind brings; see the module docstring."""

    @property
    def name(self) -> str: ...

    @property
    def article(self) -> str:
        """ "an" (electricity meter), "a" (water meter)."""
        ...

    @property
    def section_model(self) -> type[BaseModel]: ...

    @property
    def meter_type_model(self) -> type[BaseModel]: ...

    @property
    def stop_hint(self) -> str: ...

    def check_bench(self, bench: BenchConfig, section: Any) -> None: ...

    def endpoints(self, section: Any) -> dict[str, str]: ...

    def reference_text(self, bench: Mapping[str, Any]) -> tuple[str, str]:
        """(constant, time base) of the reference for records, from a bench snapshot."""
        ...

    def plan_context(self, bench: BenchConfig) -> BenchContext: ...

    @property
    def executors(self) -> Mapping[str, Executor]: ...

    async def open_devices(
        self, config: BenchConfig, controllers: Mapping[str, Any], options: OpenOptions
    ) -> tuple[KindDevices, dict[str, Any]]:
        """Its devices, and what they report for the run record (identity, firmware)."""
        ...

    def meter_client(self, entry: MeterEntry, bus: Bus, options: OpenOptions) -> Any | None: ...

    def simulator(self, config: BenchConfig, path: Any, time_scale: float | None) -> Simulator: ...

    async def selftest(
        self, devices: Devices, meters: dict[int, MeterInfo], options: Options
    ) -> list[Check]: ...


KINDS: dict[str, MeterKind] = {}


def register(kind: MeterKind) -> MeterKind:
    """Make ``kind`` known to benches whose ``[bench] kind`` names it (a later registration
    of the same name replaces the earlier one)."""
    KINDS[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    KINDS.pop(name, None)


def kind_named(name: str) -> MeterKind:
    """The registered kind; a ValueError blaming ``bench.kind`` for an unknown one."""
    from meterbench.config.errors import FieldProblem

    try:
        return KINDS[name]
    except KeyError:
        known = ", ".join(repr(k) for k in sorted(KINDS))
        raise FieldProblem("bench.kind", f"unknown meter kind {name!r} (known: {known})") from None


def _register_builtin() -> None:
    from meterbench.kinds.electricity import ELECTRICITY
    from meterbench.kinds.water import WATER

    register(ELECTRICITY)
    register(WATER)


_register_builtin()

__all__ = ["KINDS", "Executor", "KindDevices", "MeterKind", "Simulator", "kind_named", "register"]
