"""The lab's signature over a run's chain head: records a third party can check.

The hash chain proves that no stored row was changed, but anyone with database access can
recompute it after an edit, and rows alone cannot show that rows were cut from the end. So
the lab signs the chain's head with its Ed25519 key, which stays on the lab server: when a
run closes, and again whenever a record is appended later (each sign-off). A signed head is

    canonical_json({"final_hash": H, "format": "meterbench-signed-head/1", "key_id": K,
                    "rows": N, "run_id": R, "signed_at": T})

signed with the lab key. ``rows`` is the chain's row count, so deleting the last rows of a
run leaves a head that covers more rows than are stored; a rewritten chain no longer ends
in ``H`` at row ``N``; a forger without the key cannot sign a new head. The public key is
published as ``ed25519:<base64>`` (`PublicKey.text`); heads are checked against it, never
against a key merely stored beside them.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from meterbench.results.canonical import canonical_json, datetime_text
from meterbench.results.chain import ChainedRow, ChainReport
from meterbench.results.errors import StoreError

FORMAT = "meterbench-signed-head/1"
KEY_PREFIX = "ed25519:"


class SigningKeyError(StoreError, ValueError):
    """A key file or key text that cannot be used (one line saying why)."""


@dataclass(frozen=True, slots=True)
class PublicKey:
    """The lab's published key."""

    raw: bytes

    @classmethod
    def parse(cls, text: str) -> PublicKey:
        """``ed25519:<base64 of the 32 raw bytes>``, or a PEM public key."""
        text = text.strip()
        if text.startswith("-----BEGIN"):
            try:
                key = serialization.load_pem_public_key(text.encode())
            except ValueError as exc:
                raise SigningKeyError(f"not a PEM public key: {exc}") from None
            if not isinstance(key, Ed25519PublicKey):
                raise SigningKeyError("the PEM public key is not an Ed25519 key")
            return cls(key.public_bytes_raw())
        if not text.startswith(KEY_PREFIX):
            raise SigningKeyError(
                f"a public key is written {KEY_PREFIX}<base64>, got {text[:20]!r}"
            )
        try:
            raw = base64.b64decode(text[len(KEY_PREFIX) :], validate=True)
        except ValueError:
            raise SigningKeyError("the public key's base64 is damaged") from None
        if len(raw) != 32:
            raise SigningKeyError(f"an Ed25519 public key has 32 bytes, this one {len(raw)}")
        return cls(raw)

    @property
    def text(self) -> str:
        return KEY_PREFIX + base64.b64encode(self.raw).decode("ascii")

    @property
    def key_id(self) -> str:
        """A short name for the key: the first 16 hex digits of SHA-256 of its raw bytes."""
        return hashlib.sha256(self.raw).hexdigest()[:16]

    def pem(self) -> str:
        key = Ed25519PublicKey.from_public_bytes(self.raw)
        return key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")

    def verifies(self, signature: str, message: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(
                base64.b64decode(signature, validate=True), message
            )
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class LabKey:
    """The lab's private signing key (PEM, PKCS#8), read from its key file."""

    private: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> LabKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LabKey:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise SigningKeyError(f"cannot read the lab key {path}: {exc.strerror}") from None
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            raise SigningKeyError(f"{path} is not an unencrypted PEM private key: {exc}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError(f"{path} is not an Ed25519 key")
        return cls(key)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the key readable by its owner only; an existing file is never overwritten."""
        pem = self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)

    @property
    def public(self) -> PublicKey:
        return PublicKey(self.private.public_key().public_bytes_raw())

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self.private.sign(message)).decode("ascii")


@dataclass(frozen=True, slots=True)
class SignedHead:
    """One signature of a run's chain head, as stored in ``run_signature``."""

    run_id: str
    rows: int
    final_hash: str
    signed_at: datetime
    key_id: str
    public_key: str
    signature: str

    def message(self) -> bytes:
        return head_message(self.run_id, self.rows, self.final_hash, self.signed_at, self.key_id)


def head_message(run_id: str, rows: int, final_hash: str, at: datetime, key_id: str) -> bytes:
    """The exact bytes the lab signs (see the module docstring)."""
    head = {
        "final_hash": final_hash,
        "format": FORMAT,
        "key_id": key_id,
        "rows": rows,
        "run_id": run_id,
        "signed_at": datetime_text(at),
    }
    return canonical_json(head).encode("utf-8")


def sign(
    key: LabKey, run_id: str, rows: int, final_hash: str, at: datetime | None = None
) -> SignedHead:
    """The lab's signature over a chain head of ``rows`` rows ending in ``final_hash``."""
    at = at or datetime.now(UTC)
    public = key.public
    message = head_message(run_id, rows, final_hash, at, public.key_id)
    return SignedHead(run_id, rows, final_hash, at, public.key_id, public.text, key.sign(message))


@dataclass(frozen=True, slots=True)
class SignatureReport:
    """What the signatures of one run say.

    ``state``: ``signed`` (the last head verifies and covers the whole chain), ``unsigned``
    (no head, and none was required), ``broken`` (``problem`` says why)."""

    state: str
    problem: str | None = None
    head: SignedHead | None = None
    checked_with: str = ""  # "the lab's published key" or "the key stored with the heads"

    @property
    def ok(self) -> bool:
        return self.state != "broken"

    def summary(self) -> str:
        if self.state == "signed" and self.head is not None:
            return (
                f"signature valid: head of {self.head.rows} rows signed by key "
                f"{self.head.key_id} ({self.checked_with})"
            )
        if self.state == "unsigned":
            return "not signed (no lab key given, none stored)"
        return f"signature check failed: {self.problem}"


def check_heads(
    report: ChainReport,
    rows: list[ChainedRow],
    heads: list[SignedHead],
    *,
    closed: bool,
    trusted: PublicKey | None,
) -> SignatureReport:
    """Check every signed head of a run against its stored chain.

    ``rows`` are the run's rows in chain order, ``report`` their chain check. Every head must
    verify (against ``trusted`` when the lab's key is known), and its row count and final hash
    must be a point of the stored chain: fewer rows means rows were removed from the end,
    another hash means the chain was rewritten. A closed run must be signed up to its last
    row once any head exists or the lab's key is given."""
    where = "the lab's published key" if trusted else "the key stored with the heads"
    ordered = sorted(heads, key=lambda h: (h.rows, h.signed_at))
    by_seq = {row.seq: row.row_hash for row in rows}
    for head in ordered:
        if trusted is not None and head.public_key != trusted.text:
            return SignatureReport(
                "broken",
                f"the head of {head.rows} rows is signed by key {head.key_id}, not by the "
                f"lab's key {trusted.key_id}",
            )
        try:
            key = trusted or PublicKey.parse(head.public_key)
        except SigningKeyError as exc:
            return SignatureReport("broken", f"the head of {head.rows} rows: {exc}")
        if key.key_id != head.key_id or not key.verifies(head.signature, head.message()):
            return SignatureReport(
                "broken", f"the signature of the head of {head.rows} rows does not verify"
            )
        if head.rows > len(rows) or head.rows < 1:
            return SignatureReport(
                "broken",
                f"rows removed: the signed head covers {head.rows} rows, only {len(rows)} "
                "are stored",
            )
        if by_seq.get(head.rows - 1) != head.final_hash:
            return SignatureReport(
                "broken",
                f"chain rewritten: row {head.rows} no longer ends in the signed hash "
                f"{head.final_hash[:16]}...",
            )
    last = ordered[-1] if ordered else None
    if last is None:
        if closed and trusted is not None:
            return SignatureReport("broken", "the closed run carries no lab signature")
        return SignatureReport("unsigned", checked_with=where)
    if closed and last.rows < report.rows:
        return SignatureReport(
            "broken",
            f"{report.rows - last.rows} rows after the last signed head (of {last.rows} rows) "
            "are not signed",
            last,
            where,
        )
    return SignatureReport("signed", None, last, where)
