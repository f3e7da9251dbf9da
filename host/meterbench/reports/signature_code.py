"""The signature a certificate carries, as text and as a QR code, and its offline check.

The code holds everything the lab signed (the run, the row count, the final hash, the signing
time and key id) plus the certificate number and the signature, as canonical JSON, so anyone
with the lab's published public key can check a paper certificate without the database:
`verify_code`. The public lookup checks the same head against the stored chain.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

import segno

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


@dataclass(frozen=True, slots=True)
class QrImages:
    png: bytes
    svg: str


def qr_images(text: str) -> QrImages:
    """PNG (for the PDF) and SVG (for the HTML) of one QR code, medium error correction."""
    code = segno.make(text, error="m", micro=False)
    png, svg = io.BytesIO(), io.BytesIO()
    code.save(png, kind="png", scale=6, border=2)
    code.save(svg, kind="svg", scale=6, border=2, xmldecl=False)
    return QrImages(png.getvalue(), svg.getvalue().decode("utf-8"))


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
