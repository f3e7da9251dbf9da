"""Lab profile (``bench_configs/labs/*.toml``): who issues certificates and on what authority.

A Chinese metrology institute's certificate (检定证书) and result notice (检定结果通知书) name
the institute, its address and authorisation number (授权证书号), the measurement standard
with its examination certificate number (考核证书号), uncertainty and traceability, the people
who sign (批准人, 核验员, 检定员) and the validity (有效期至) the regulation's period gives. A
bench file names its lab profile (``lab = "labs/x.toml"``); a run snapshots it, so documents
come from the record alone. Validity periods are regulation values kept as data.
"""

from __future__ import annotations

import os
from datetime import tzinfo
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from meterbench.config.errors import ConfigError
from meterbench.config.files import read_toml, validate_model
from meterbench.results.signing import LabKey, PublicKey, SigningKeyError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LabInfo(_Strict):
    name: str = Field(min_length=1, description="institute name as printed")
    name_en: str = ""
    address: str = Field(min_length=1)
    authorisation: str = Field(min_length=1, description="授权证书号 (authorisation number)")
    phone: str = ""
    timezone: str = Field(
        default="", description="IANA zone for printed times (e.g. Asia/Shanghai); '': system"
    )

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if value:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {value!r}") from None
        return value


class LabStandard(_Strict):
    """A measurement standard (计量标准) of the lab, as its examination certificate says."""

    name: str = Field(min_length=1)
    kinds: list[Literal["electricity", "water"]] = ["electricity", "water"]
    examination_certificate: str = Field(min_length=1, description="计量标准考核证书号")
    uncertainty: str = Field(min_length=1, description="e.g. 'U = 0.05 % (k = 2)'")
    traceability: str = Field(min_length=1, description="to which national standard, via whom")
    valid_until: str = ""


class Validity(_Strict):
    """How long a certificate of a regulation is valid (its verification period)."""

    regulation: str = Field(min_length=1, description="profile id, e.g. jjg596-2012")
    months: int = Field(gt=0)
    classes: list[str] | None = None
    source: str = ""
    confidence: Literal["unconfirmed"] | None = None


class Signatories(_Strict):
    """Who approves certificates; the verifier and checker come from the run."""

    approver: str = Field(min_length=1, description="批准人")
    approver_title: str = ""


class Signing(_Strict):
    """The lab's Ed25519 key: the private key file stays on the lab server (created by
    `meterbench lab keygen`), the public key is published for anyone to check records."""

    key_file: str = Field(
        default="", description="private key (PEM), relative to this file; '' = not signing"
    )
    public_key: str = Field(default="", description="the published key, ed25519:<base64>")

    @field_validator("public_key")
    @classmethod
    def _public(cls, value: str) -> str:
        if value:
            PublicKey.parse(value)  # SigningKeyError is a ValueError for the field message
        return value


class LabProfile(_Strict):
    lab: LabInfo
    standards: list[LabStandard] = Field(min_length=1)
    validity: list[Validity] = []
    signatories: Signatories
    signing: Signing = Signing()


def load_lab(path: str | os.PathLike[str]) -> LabProfile:
    """Load and validate a lab profile; ConfigError naming file and field."""
    return validate_model(LabProfile, read_toml(path), path)


def lab_path(name: str, bench_path: str | os.PathLike[str]) -> Path:
    """A lab profile named in a bench file, relative to the bench file."""
    path = Path(bench_path).parent / name
    if not path.is_file():
        raise ConfigError(bench_path, "lab", f"lab profile {name!r} not found at {path}")
    return path


def bench_lab(lab: str | None, bench_path: str | os.PathLike[str]) -> LabProfile | None:
    """The lab profile a bench file names (its ``lab`` field), loaded; None when it names none.
    A run stores ``lab_snapshot`` of it with its other snapshots."""
    if not lab:
        return None
    return load_lab(lab_path(lab, bench_path))


def lab_snapshot(profile: LabProfile) -> dict[str, object]:
    """The JSON a run stores (snapshot ``lab``), read back by the documents. The signing
    section stays out: where the key lives is no part of a record, and a key stored in the
    record it vouches for would prove nothing."""
    return profile.model_dump(mode="json", exclude={"signing"})


def key_file(profile: LabProfile, lab_file: str | os.PathLike[str]) -> Path | None:
    """Where the lab's private key is (relative paths from the lab file); None: not set."""
    if not profile.signing.key_file:
        return None
    return (Path(lab_file).parent / profile.signing.key_file).expanduser()


def lab_key(lab_file: str | os.PathLike[str]) -> LabKey | None:
    """The lab's signing key when the profile names one; ConfigError when it is missing,
    unreadable or does not match the published public key."""
    profile = load_lab(lab_file)
    path = key_file(profile, lab_file)
    if path is None:
        return None
    if not path.exists():
        raise ConfigError(
            lab_file,
            "signing.key_file",
            f"no key at {path}: create it with `meterbench lab keygen --lab {lab_file}`",
        )
    try:
        key = LabKey.load(path)
    except SigningKeyError as exc:
        raise ConfigError(lab_file, "signing.key_file", str(exc)) from None
    published = profile.signing.public_key
    if published and PublicKey.parse(published) != key.public:
        raise ConfigError(
            lab_file,
            "signing.public_key",
            f"the published key is not the public half of {path} (key {key.public.key_id})",
        )
    return key


def lab_public_key(lab_file: str | os.PathLike[str]) -> PublicKey | None:
    """The key records are checked with: the published ``public_key``, else the public half
    of the key file; None when the lab signs nothing."""
    profile = load_lab(lab_file)
    if profile.signing.public_key:
        return PublicKey.parse(profile.signing.public_key)
    key = lab_key(lab_file)
    return None if key is None else key.public


def bench_lab_key(lab: str | None, bench_path: str | os.PathLike[str]) -> LabKey | None:
    """The signing key of the lab a bench file names; None when it names none or no key."""
    if not lab:
        return None
    return lab_key(lab_path(lab, bench_path))


def local_zone(name: str = "") -> tzinfo:
    """The zone printed times use: the named one, else the system's."""
    if name:
        return ZoneInfo(name)
    from datetime import datetime

    zone = datetime.now().astimezone().tzinfo
    assert zone is not None
    return zone
