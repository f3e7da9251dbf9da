"""What the run's lab snapshot says about the issuing institute: name, address, authorisation
number, the standard used (examination certificate, uncertainty, traceability), the validity
period of the regulation and the approver; and the time zone documents print times in.

The snapshot is the lab profile as the run used it (``meterbench.config.lab``). A run recorded
without one prints these fields empty: documents show what was stored, nothing invented.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from meterbench.config.lab import local_zone
from meterbench.results import RunRecord

TZ_ENV = "METERBENCH_TZ"


@dataclass(frozen=True, slots=True)
class LabStandardFacts:
    name: str = ""
    examination_certificate: str = ""
    uncertainty: str = ""
    traceability: str = ""
    valid_until: str = ""


@dataclass(frozen=True, slots=True)
class LabFacts:
    name: str = ""
    name_en: str = ""
    address: str = ""
    authorisation: str = ""
    phone: str = ""
    approver: str = ""
    approver_title: str = ""
    standard: LabStandardFacts = LabStandardFacts()
    validity: tuple[Mapping[str, Any], ...] = ()
    timezone: str = ""

    def valid_months(self, regulation: str, meter_class: str) -> int | None:
        """The verification period of a regulation (and class) in months, if the lab says."""
        wanted = regulation.strip().lower().replace(" ", "")
        for row in self.validity:
            if str(row.get("regulation", "")).lower().replace(" ", "") != wanted:
                continue
            classes = row.get("classes")
            if classes and meter_class not in [str(c) for c in classes]:
                continue
            months = row.get("months")
            if isinstance(months, int) and not isinstance(months, bool) and months > 0:
                return months
        return None


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str:
    return "" if value is None or isinstance(value, Mapping | list) else str(value)


def lab_facts(record: RunRecord, kind: str) -> LabFacts:
    """The lab of the run, with the standard for this kind of meter (electricity, water)."""
    lab = _map(record.snapshots.get("lab"))
    head = _map(lab.get("lab"))
    signatories = _map(lab.get("signatories"))
    standards = [s for s in lab.get("standards") or () if isinstance(s, Mapping)]
    chosen = next((s for s in standards if kind in (s.get("kinds") or ())), None)
    chosen = chosen or (standards[0] if standards else {})
    return LabFacts(
        name=_text(head.get("name")),
        name_en=_text(head.get("name_en")),
        address=_text(head.get("address")),
        authorisation=_text(head.get("authorisation")),
        phone=_text(head.get("phone")),
        approver=_text(signatories.get("approver")),
        approver_title=_text(signatories.get("approver_title")),
        standard=LabStandardFacts(
            name=_text(chosen.get("name")),
            examination_certificate=_text(chosen.get("examination_certificate")),
            uncertainty=_text(chosen.get("uncertainty")),
            traceability=_text(chosen.get("traceability")),
            valid_until=_text(chosen.get("valid_until")),
        ),
        validity=tuple(v for v in lab.get("validity") or () if isinstance(v, Mapping)),
        timezone=_text(head.get("timezone")),
    )


def document_zone(lab: LabFacts) -> tzinfo:
    """Printed times: the lab's zone, else $METERBENCH_TZ, else the system's."""
    return local_zone(lab.timezone or os.environ.get(TZ_ENV, ""))
