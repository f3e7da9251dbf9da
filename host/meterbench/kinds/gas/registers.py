"""The Modbus register maps of a gas bench's reference and line-sensor units: one place, so
the host's drivers and the simulated devices cannot drift apart.

Reference unit (bell prover or master meter controller)
  holding 0       command: 0 stop, 1 deliver (air through the meters), 2 refill the bell,
                  3 pressurise the line to the pressure setpoint and isolate every position,
                  4 vent the line
  holding 1-2     flow setpoint, 0.1 L/h, 32 bits (high word first)
  holding 3-4     pressure setpoint, Pa gauge, 32 bits
  input 0-1       reference volume count (encoder counts or master pulses), 32 bits
  input 2         status bits: 1 moving, 2 bell empty, 4 line pressurised
  input 3-4       measured flow, 0.1 L/h, 32 bits
  input 5         reference air temperature, 0.01 °C, signed
  input 6-7       reference air absolute pressure, Pa, 32 bits
  input 8-9       bell volume left, 0.01 L, 32 bits

Line-sensor unit
  input 0         meter-line temperature, 0.01 °C, signed
  input 1-2       meter-line absolute pressure, Pa, 32 bits
  input 100+n-1   static gauge pressure at position n, Pa (tightness)
  input 300+n-1   differential pressure across the meter at position n, 0.1 Pa (pressure loss)
"""

from __future__ import annotations

CMD_STOP = 0
CMD_DELIVER = 1
CMD_REFILL = 2
CMD_PRESSURISE = 3
CMD_VENT = 4
COMMANDS = (CMD_STOP, CMD_DELIVER, CMD_REFILL, CMD_PRESSURISE, CMD_VENT)

HR_COMMAND = 0
HR_FLOW_SETPOINT = 1
HR_PRESSURE_SETPOINT = 3

IR_COUNT = 0
IR_STATUS = 2
IR_FLOW = 3
IR_TEMPERATURE = 5
IR_PRESSURE = 6
IR_LEFT = 8
REFERENCE_INPUTS = 10

ST_MOVING = 1
ST_EMPTY = 2
ST_PRESSURISED = 4

IR_LINE_TEMPERATURE = 0
IR_LINE_PRESSURE = 1
IR_POSITION_PRESSURE = 100
IR_POSITION_DP = 300

FLOW_UNIT_L_H = 0.1
TEMPERATURE_UNIT_C = 0.01
DP_UNIT_PA = 0.1
LEFT_UNIT_L = 0.01


def split32(value: int) -> tuple[int, int]:
    """A 32-bit register pair, high word first."""
    value &= 0xFFFFFFFF
    return value >> 16, value & 0xFFFF


def join32(high: int, low: int) -> int:
    return (high << 16) | low


def signed16(value: int) -> int:
    return value - 0x10000 if value & 0x8000 else value


def to_signed16(value: int) -> int:
    return value & 0xFFFF
