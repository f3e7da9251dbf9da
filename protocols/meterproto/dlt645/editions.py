"""Which identifier answers which question, one table per DL/T 645 edition (host only).

A bench asks every meter the same questions (its address, its energy registers, its clock);
the 2007 and 1997 editions answer them under different identifiers, function codes and DI
sizes. Clients look the identifier up here instead of writing numbers into their callers, so an
item never carries a 2007 identifier to a 1997 meter.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Energy registers by name (the values of the host's EnergyRegister enum): direction/quantity.
ACTIVE_IMPORT = "active_import"
ACTIVE_EXPORT = "active_export"
ACTIVE_COMBINED = "active_combined"


class UnsupportedQuestion(ValueError):
    """The edition has no identifier for what was asked (e.g. combined energy in 1997)."""


@dataclass(frozen=True)
class Edition:
    """The identifiers of one edition.

    ``address``: identifiers holding the communication address, tried in order (a 1997 meter
    may keep it as meter number C032 or user number C033). ``energy_base``: register name ->
    the identifier of its total; tariff n adds ``n * tariff_step``; ``block`` is the tariff
    offset that reads total and every tariff at once.
    """

    year: int
    di_size: int
    address: tuple[int, ...]
    date: int
    time: int
    energy_base: dict[str, int] = field(default_factory=dict)
    tariff_step: int = 1
    block: int = 0xF
    max_tariff: int = 14

    @property
    def protocol(self) -> str:
        return f"dlt645-{self.year}"

    def energy(self, register: str, tariff: int = 0) -> int:
        """The identifier of ``register``'s total (``tariff`` 0) or of tariff 1..n."""
        base = self.energy_base.get(register)
        if base is None:
            raise UnsupportedQuestion(f"DL/T 645-{self.year} has no {register} energy register")
        if not 0 <= tariff <= self.max_tariff:
            raise UnsupportedQuestion(
                f"DL/T 645-{self.year} has tariffs 1 to {self.max_tariff}, not {tariff}"
            )
        return base + tariff * self.tariff_step

    def energy_block(self, register: str) -> int:
        """The block identifier: total and every tariff in one reply."""
        return self.energy(register) + self.block * self.tariff_step


DLT645_2007 = Edition(
    year=2007,
    di_size=4,
    address=(0x04000401,),
    date=0x04000101,
    time=0x04000102,
    energy_base={
        ACTIVE_COMBINED: 0x00000000,
        ACTIVE_IMPORT: 0x00010000,
        ACTIVE_EXPORT: 0x00020000,
    },
    tariff_step=0x100,
    block=0xFF,
    max_tariff=63,
)

DLT645_1997 = Edition(
    year=1997,
    di_size=2,
    address=(0xC032, 0xC033),
    date=0xC010,
    time=0xC011,
    energy_base={ACTIVE_IMPORT: 0x9010, ACTIVE_EXPORT: 0x9020},
    tariff_step=1,
    block=0xF,
    max_tariff=4,
)

EDITIONS: dict[int, Edition] = {2007: DLT645_2007, 1997: DLT645_1997}


def edition(year: int) -> Edition:
    try:
        return EDITIONS[year]
    except KeyError:
        raise ValueError(f"DL/T 645 edition must be 1997 or 2007, got {year}") from None


__all__ = [
    "ACTIVE_COMBINED",
    "ACTIVE_EXPORT",
    "ACTIVE_IMPORT",
    "DLT645_1997",
    "DLT645_2007",
    "EDITIONS",
    "Edition",
    "UnsupportedQuestion",
    "edition",
]
