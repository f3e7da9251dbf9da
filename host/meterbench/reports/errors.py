"""Why a report was not made, each as one line an operator can act on."""

from __future__ import annotations

from collections.abc import Iterable


class ReportError(Exception):
    """Base class: the CLI prints the message and exits with status 2."""


class UnknownMeterError(ReportError):
    def __init__(self, run_id: str, meter: str, known: Iterable[str]) -> None:
        listed = ", ".join(known) or "none"
        super().__init__(f"run {run_id!r} has no meter {meter!r} (serial numbers: {listed})")
        self.meter = meter


class ChainBrokenError(ReportError):
    """The run's hash chain does not verify: its records are not evidence any more."""

    def __init__(self, run_id: str, problem: str) -> None:
        super().__init__(
            f"refusing to report run {run_id!r}: its hash chain does not verify ({problem}); "
            "`meterbench records verify` names the altered row"
        )
        self.problem = problem


class SignatureInvalidError(ReportError):
    """The lab's signature over the run does not verify, or the closed run is not signed."""

    def __init__(self, run_id: str, problem: str) -> None:
        super().__init__(
            f"refusing run {run_id!r}: the lab's signature check failed ({problem}); "
            "`meterbench records verify --lab LAB` says more"
        )
        self.problem = problem


class RunNotClosedError(ReportError):
    def __init__(self, run_id: str, status: str) -> None:
        super().__init__(
            f"run {run_id!r} is {status}: certificates and result notices are issued only for "
            "a completed run"
        )


class NoVerdictError(ReportError):
    """A meter without a complete legal verdict gets neither a certificate nor a notice."""

    def __init__(self, serial: str, why: str) -> None:
        super().__init__(f"meter {serial}: no certificate or result notice ({why})")


class ManualItemMissingError(ReportError):
    """A mandatory manual item (visual inspection, AC voltage test, tightness) has no record."""

    def __init__(self, run_id: str, serial: str, position: int, items: Iterable[str]) -> None:
        names = ", ".join(items)
        super().__init__(
            f"meter {serial} (position {position}): no certificate while mandatory item "
            f"{names} is not recorded (meterbench record {run_id} --item ITEM --position "
            f"{position} --pass|--fail --verifier NAME)"
        )


class LotWithheldError(ReportError):
    """The meter's lot failed its mean-error verdict and the plan withholds its certificates."""

    def __init__(self, serial: str, lot: str) -> None:
        super().__init__(
            f"meter {serial}: certificate withheld: lot {lot} failed its mean-error verdict"
        )


class NumberFormatError(ReportError):
    def __init__(self, number_format: str, detail: str) -> None:
        super().__init__(
            f"bench config certificates.number_format {number_format!r} is not usable: {detail} "
            "(fields: {bench} {year} {kind} {seq})"
        )
