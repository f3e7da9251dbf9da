"""Which client speaks to an electricity meter, by the protocol its meter type declares.

The session builds every meter client through ``electricity_meter_client``; a protocol is one
entry in ``FACTORIES``, so a new protocol never adds a branch to the session or the items.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from meterbench.devices.dlt645_client import Dlt645Client
from meterbench.devices.dlt698_client import WILDCARD, Dlt698Client
from meterbench.devices.electricity_meter import ElectricityMeter
from meterbench.transport.bus import Bus

Factory = Callable[..., ElectricityMeter]


def _dlt645(edition: int) -> Factory:
    def build(bus: Bus, address: str | None, **options: Any) -> ElectricityMeter:
        return Dlt645Client(  # type: ignore[return-value]
            bus,
            address or b"\xaa" * 6,
            version=edition,
            password=options.get("password"),
            operator=options.get("operator", 0),
            baudrates=options.get("baud_rates"),
        )

    return build


def _dlt698(bus: Bus, address: str | None, **options: Any) -> ElectricityMeter:
    return Dlt698Client(bus, address or WILDCARD, password=options.get("connect_password"))


FACTORIES: dict[str, Factory] = {
    "dlt645-2007": _dlt645(2007),
    "dlt645-1997": _dlt645(1997),
    "dlt698": _dlt698,
}


def electricity_meter_client(
    protocol: str, bus: Bus, address: str | None, **options: Any
) -> ElectricityMeter | None:
    """The client for ``protocol`` on ``bus``, or None for a meter that has no communication
    (``protocol = "none"``). ``options``: password, operator (DL/T 645 writes), baud_rates
    (the rates the meter type allows)."""
    factory = FACTORIES.get(protocol)
    return None if factory is None else factory(bus, address, **options)
