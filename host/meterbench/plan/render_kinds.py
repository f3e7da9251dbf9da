"""Tables of the heat and gas steps for ``plan show`` (the human-readable form)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from meterbench.plan.gas_model import GasErrorStep
from meterbench.plan.heat_model import (
    HeatCalculatorStep,
    HeatCompleteStep,
    HeatFlowStep,
    HeatSensorPairStep,
)


def render_kind_step(step: object, console: Console) -> bool:
    """Print a heat or gas points step; False when ``step`` is not one of them."""
    if isinstance(step, HeatFlowStep):
        _heat_flow(step, console)
    elif isinstance(step, HeatCalculatorStep | HeatSensorPairStep):
        _delta_theta(step, console)
    elif isinstance(step, HeatCompleteStep):
        _complete(step, console)
    elif isinstance(step, GasErrorStep):
        _gas(step, console)
    else:
        return False
    return True


def _table(title: str, columns: list[str]) -> Table:
    table = Table(title=title, title_justify="left")
    for index, column in enumerate(columns):
        table.add_column(column, justify="left" if index == 0 else "right")
    return table


def _heat_flow(step: HeatFlowStep, console: Console) -> None:
    table = _table(
        f"{step.id}: {step.title} (qp {step.qp_m3h}, qi {step.qi_m3h} m³/h, {step.installation})",
        [
            "point",
            "band L/h",
            "water °C",
            "Ef ±%",
            "Δθ K",
            "Et ±%",
            "Ec ±%",
            "E ±%",
            "volume L",
            "time s",
        ],
    )
    for p in step.points:
        c = p.combined
        table.add_row(
            p.key + ("" if p.feasible else " (!)"),
            f"{p.band_low_l_h} .. {p.band_high_l_h}",
            p.water_band_c,
            str(p.limits.mpe),
            "-" if c is None else str(c.delta_theta_k),
            "-" if c is None else str(c.et),
            "-" if c is None else str(c.ec),
            "-" if c is None else str(c.e),
            str(p.volume_l),
            str(p.duration_s),
        )
    console.print(table)


def _delta_theta(step: HeatCalculatorStep | HeatSensorPairStep, console: Console) -> None:
    calculator = isinstance(step, HeatCalculatorStep)
    columns = [
        "point",
        "Δθ band K",
        "Δθ K",
        "supply °C",
        "return °C",
        "R supply Ω",
        "R return Ω",
        ("Ec" if calculator else "Et") + " ±%",
    ]
    if calculator:
        columns += ["k kJ/(m³·K)", "volume L", "heat kWh"]
    table = _table(f"{step.id}: {step.title} ({step.sensor})", columns)
    for p in step.points:
        row = [
            p.key,
            f"{p.band_low_k} .. {p.band_high_k}",
            str(p.delta_theta_k),
            str(p.supply_c),
            str(p.return_c),
            str(p.supply_ohm),
            str(p.return_ohm),
            str(p.limits.mpe),
        ]
        if calculator:
            row += [str(p.heat_coefficient_kj_m3_k), str(p.volume_l), str(p.heat_kwh)]
        table.add_row(*row)
    console.print(table)


def _complete(step: HeatCompleteStep, console: Console) -> None:
    table = _table(
        f"{step.id}: {step.title} ({step.installation})",
        [
            "point",
            "q L/h",
            "Δθ K",
            "supply °C",
            "return °C",
            "Ef",
            "Et",
            "Ec",
            "E ±%",
            "volume L",
            "heat kWh",
            "time s",
        ],
    )
    for p in step.points:
        c = p.components
        table.add_row(
            p.key + ("" if p.feasible else " (!)"),
            str(p.target_l_h),
            str(p.delta_theta_k),
            str(p.supply_c),
            str(p.return_c),
            str(c.ef),
            str(c.et),
            str(c.ec),
            str(p.limits.mpe),
            str(p.volume_l),
            str(p.heat_kwh),
            str(p.duration_s),
        )
    console.print(table)


def _gas(step: GasErrorStep, console: Console) -> None:
    table = _table(
        f"{step.id}: {step.title} ({step.method}; qmin {step.qmin_m3h}, qt {step.qt_m3h}, "
        f"qmax {step.qmax_m3h} m³/h)",
        [
            "point",
            "band L/h",
            "zone",
            "MPE ±%",
            "interval %",
            "runs",
            "volume L",
            "cycles",
            "time s",
        ],
    )
    for p in step.points:
        table.add_row(
            p.key + ("" if p.feasible else " (!)"),
            f"{p.band_low_l_h} .. {p.band_high_l_h}",
            p.zone,
            str(p.limits.mpe),
            str(p.rounding_interval),
            str(p.runs),
            str(p.volume_l),
            str(p.cycles),
            str(p.duration_s),
        )
    console.print(table)
