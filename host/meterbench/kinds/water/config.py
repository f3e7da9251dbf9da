"""The ``[water]`` section of a water bench: its reference, actuators and read-outs.

A water bench passes one flow through every meter in series. What the host must know about the
hardware: which reference gives the actual volume (master meter pulses on the controllers'
reference input, or a balance read over serial), how a run starts and stops (standing start:
the start valve closes between runs; flying start: the controllers gate on meter pulses while
water flows), how the flow is set (a drive on a Modbus RTU line) and kept steady, where the
water temperature comes from, and which controller outputs are valves. ``check_water`` holds
the rules that need the rest of the bench (controller ids, position channels).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from meterbench.config.bench import BenchConfig

RegisterNo = Annotated[int, Field(ge=0, le=0xFFFF)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChannelRef(_Strict):
    """An input channel of a controller (not a meter position)."""

    controller: str = Field(min_length=1)
    channel: int = Field(ge=0)


class OutputRef(ChannelRef):
    """A controller output driving a valve: state 1 opens it."""

    output: int = Field(default=0, ge=0)


class ReferenceMeter(_Strict):
    """The master (reference) flow meter. Its volume pulses reach every controller's reference
    input (counted while a meter's pulses gate it); ``count`` is a spare channel they also
    reach, to count them from rest to rest (standing start) and to measure the flow."""

    pulses_per_l: float = Field(gt=0)
    error_pct: float = Field(
        default=0.0, description="its error from its certificate; volumes corrected"
    )
    count: ChannelRef | None = None


class ModbusLine(_Strict):
    """The RS-485 line of the drive and the temperature transmitter."""

    url: str = Field(min_length=1)
    baudrate: int = Field(default=9600, gt=0)
    parity: Literal["N", "E", "O"] = "E"
    bytesize: int = 8
    stopbits: float = 1


class FlowDrive(_Strict):
    """A pump frequency converter on the Modbus line: demand 0..1 is frequency / maximum."""

    driver: Literal["modbus_vfd"] = "modbus_vfd"
    unit: int = Field(default=1, ge=1, le=247)
    max_frequency_hz: float = Field(default=50.0, gt=0)
    flow_at_max_l_h: float = Field(gt=0, description="first guess of the flow at full speed")
    control_register: RegisterNo = 0x2000
    run_command: RegisterNo = 1
    stop_command: RegisterNo = 0
    frequency_register: RegisterNo = 0x2001
    frequency_unit_hz: float = Field(default=0.01, gt=0)
    output_frequency_register: RegisterNo | None = 0x3000


class FlowRegulation(_Strict):
    """Closed-loop flow setting and the stability check before every run."""

    settle_s: float = Field(default=10.0, ge=0, description="wait after a change before measuring")
    reading_s: float = Field(default=5.0, gt=0, description="shortest time one flow reading spans")
    min_reference_pulses: int = Field(default=400, ge=1, description="per flow reading")
    stable_readings: int = Field(default=3, ge=2)
    stability_pct: float = Field(default=1.0, gt=0, description="largest spread of stable readings")
    band_margin: float = Field(
        default=0.25, ge=0, lt=0.5, description="part of the band width kept free on each side"
    )
    max_adjustments: int = Field(default=10, ge=1)


class Thermometer(_Strict):
    """Water temperature transmitter: one register in units of ``scale_c``."""

    driver: Literal["modbus"] = "modbus"
    unit: int = Field(default=2, ge=1, le=247)
    address: RegisterNo = 0
    input_register: bool = True
    scale_c: float = Field(default=0.01, gt=0)
    signed: bool = True
    max_deviation_c: float = Field(
        default=5.0, gt=0, description="warn when the water is further from the point's temperature"
    )


class Scale(_Strict):
    """The weighing tank's balance (gravimetric method), MT-SICS over serial."""

    driver: Literal["sics"] = "sics"
    url: str = Field(min_length=1)
    baudrate: int = Field(default=9600, gt=0)
    parity: Literal["N", "E", "O"] = "N"
    capacity_kg: float = Field(gt=0)
    resolution_kg: float = Field(gt=0)
    stable_timeout_s: float = Field(default=60.0, gt=0)
    air_density_kg_m3: float = Field(default=1.2, ge=0)
    weights_density_kg_m3: float = Field(default=8000.0, gt=0)
    drain: OutputRef | None = None
    drain_to_kg: float = Field(default=1.0, ge=0, description="empty the tank down to this")


class WaterBench(_Strict):
    method: Literal["master_meter", "gravimetric"] = "master_meter"
    start: Literal["flying", "standing"] = "flying"
    min_flow_l_h: float = Field(gt=0)
    max_flow_l_h: float = Field(gt=0)
    rest_s: float = Field(
        default=10.0, ge=0, description="after the start valve closes: water at rest"
    )
    max_attempts: int = Field(
        default=3, ge=1, description="tries of a run whose flow left its band"
    )
    reference: ReferenceMeter
    start_valve: OutputRef
    modbus: ModbusLine
    flow: FlowDrive
    regulation: FlowRegulation = FlowRegulation()
    temperature: Thermometer
    scale: Scale | None = None

    @model_validator(mode="after")
    def _consistent(self) -> WaterBench:
        if self.max_flow_l_h <= self.min_flow_l_h:
            raise ValueError("water.max_flow_l_h: must be greater than min_flow_l_h")
        if self.method == "gravimetric":
            if self.scale is None:
                raise ValueError("water.scale: the gravimetric method needs a [water.scale]")
            if self.start != "standing":
                raise ValueError(
                    "water.start: the gravimetric method reads the balance at rest, so it "
                    "needs start = 'standing' (flying starts would need a flow diverter)"
                )
        if self.method == "master_meter" and self.start == "standing" and not self.reference.count:
            raise ValueError(
                "water.reference.count: a standing start with the master meter counts its "
                "pulses from rest to rest on a controller channel; name it"
            )
        return self

    def outputs(self) -> dict[str, OutputRef]:
        out = {"water.start_valve": self.start_valve}
        if self.scale is not None and self.scale.drain is not None:
            out["water.scale.drain"] = self.scale.drain
        return out

    def endpoints(self) -> dict[str, str]:
        out = {"water.modbus.url": self.modbus.url}
        if self.scale is not None:
            out["water.scale.url"] = self.scale.url
        return out

    def reference_resolution_l(self) -> float:
        """Volume the reference resolves: one master pulse, or one balance digit (1 kg ≈ 1 L)."""
        if self.method == "gravimetric" and self.scale is not None:
            return self.scale.resolution_kg
        return 1 / self.reference.pulses_per_l


class WaterSection(_Strict):
    """What a water bench has beyond the common bench."""

    water: WaterBench


def check_water(bench: BenchConfig, section: WaterSection) -> None:
    """Rules between ``[water]`` and the rest of the bench; ValueError naming the field."""
    water = section.water
    controllers = {c.id for c in bench.controllers}
    used = {(p.controller, p.channel) for p in bench.positions}
    refs: dict[str, ChannelRef] = dict(water.outputs())
    if water.reference.count is not None:
        refs["water.reference.count"] = water.reference.count
        key = (water.reference.count.controller, water.reference.count.channel)
        if key in used:
            raise ValueError(
                f"water.reference.count: channel {key[1]} of controller {key[0]} holds a "
                "meter position; the master meter needs a channel of its own"
            )
    for name, ref in refs.items():
        if ref.controller not in controllers:
            raise ValueError(f"{name}: controller {ref.controller!r} is not in [[controllers]]")
    outputs = [(o.controller, o.channel, o.output) for o in water.outputs().values()]
    if len(outputs) != len(set(outputs)):
        raise ValueError("water.scale.drain: the drain valve uses the start valve's output")


def water_of(bench: BenchConfig) -> WaterBench:
    section: WaterSection = bench.section
    return section.water


__all__ = [
    "ChannelRef",
    "FlowDrive",
    "FlowRegulation",
    "ModbusLine",
    "OutputRef",
    "ReferenceMeter",
    "Scale",
    "Thermometer",
    "WaterBench",
    "WaterSection",
    "check_water",
    "water_of",
]
