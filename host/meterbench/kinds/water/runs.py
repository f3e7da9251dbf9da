"""What one run of a water flow point gives for every meter in the line, whatever the method
and start mode: the indicated and the actual volume and the flow the band check uses; and the
read-outs every run needs (the meters' pulse values, the water temperature)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from meterbench.config.heat_meter_type import HeatMeterType
from meterbench.config.meter_types import WaterMeterType
from meterbench.devices.modbus_client import ModbusError
from meterbench.kinds.water.flow import WaterBenchError
from meterbench.kinds.water.session import WaterDevices
from meterbench.runner.context import RunContext

SECONDS_PER_HOUR = 3600


@dataclass
class RunResult:
    """One meter in one run. ``flow_l_h`` is what the band check uses."""

    indicated_l: Fraction
    actual_l: Fraction
    flow_l_h: Fraction
    raw: dict[str, Any]
    register_problem: str | None = None


@dataclass
class RunOutcome:
    results: dict[int, RunResult] = field(default_factory=dict)
    problems: dict[int, str] = field(default_factory=dict)
    temperature_c: Decimal = Decimal(0)


def pulse_value_l(ctx: RunContext, position: int) -> Fraction | None:
    meter = ctx.meter_type(position)
    if isinstance(meter, WaterMeterType) and meter.pulse_volume_l:
        return Fraction(str(meter.pulse_volume_l))
    if isinstance(meter, HeatMeterType) and meter.pulse_value_l:
        return Fraction(str(meter.pulse_value_l))  # a heat meter's flow-sensor pulses
    return None


def decimal_text(value: Fraction, places: int = 6) -> str:
    return f"{float(value):.{places}f}"


async def temperature_c(devices: WaterDevices) -> Decimal:
    try:
        return await devices.thermometer.read_c()
    except ModbusError as exc:
        raise WaterBenchError(f"water temperature: {exc}") from exc


__all__ = [
    "SECONDS_PER_HOUR",
    "RunOutcome",
    "RunResult",
    "decimal_text",
    "pulse_value_l",
    "temperature_c",
]
