"""The signature a certificate carries, as text and as a QR code, and its offline check.

The code holds everything the lab signed (the run, the row count, the final hash, the signing
time and key id) plus the certificate number and the signature, as canonical JSON, so anyone
with the lab's published public key can check a paper certificate without the database:
`verify_code`. The public lookup checks the same head against the stored chain.
"""

from __future__ import annotations

import json

import segno

from meterbench.reports.chart import Box, Chart
from meterbench.results.canonical import canonical_json, datetime_text, parse_datetime
from meterbench.results.signing import PublicKey, SignedHead, head_message

CODE_FORMAT = "meterbench-certificate/1"


def code_text(number: str, head: SignedHead) -> str:
    """The QR code's content for a certificate number and the signed head it relies on."""
    return canonical_json(
        {
            "format": CODE_FORMAT,
            "no": number,
            "run": head.run_id,
            "rows": head.rows,
            "hash": head.final_hash,
            "at": datetime_text(head.signed_at),
            "key": head.key_id,
            "sig": head.signature,
        }
    )


QUIET_ZONE = 2  # light modules around the code, as scanners need
INK = "#000000"
PT_PER_MM = 72 / 25.4


def qr_chart(text: str, width_mm: float = 32.0) -> Chart:
    """One QR code (medium error correction) as vector squares, ``width_mm`` wide: crisp at
    any print size, drawn by the same code as the plots into the PDF and the HTML. Each run
    of dark modules in a row is one box."""
    matrix = segno.make(text, error="m", micro=False).matrix
    modules = len(matrix) + 2 * QUIET_ZONE
    side = width_mm * PT_PER_MM
    unit = side / modules
    chart = Chart(side, side, "QR")
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            x, y = (start + QUIET_ZONE) * unit, (r + QUIET_ZONE) * unit
            chart.add(Box(x, y, (c - start) * unit, unit, stroke=INK, fill=INK, width=0))
    return chart


def verify_code(text: str, public_key: PublicKey) -> bool:
    """Does a certificate's code carry a head the lab's key signed? (Whether that head is
    still the stored chain's is for the lookup, which has the database.)"""
    try:
        fields = json.loads(text)
        if fields.get("format") != CODE_FORMAT or fields.get("key") != public_key.key_id:
            return False
        message = head_message(
            str(fields["run"]),
            int(fields["rows"]),
            str(fields["hash"]),
            parse_datetime(str(fields["at"])),
            str(fields["key"]),
        )
        return public_key.verifies(str(fields["sig"]), message)
    except (ValueError, KeyError, TypeError, AttributeError):
        return False
