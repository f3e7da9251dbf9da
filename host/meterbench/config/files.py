"""Reading TOML configuration files and validating them into models, failing as ConfigError."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Collection
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from meterbench.config.errors import ConfigError, validation_error

M = TypeVar("M", bound=BaseModel)


def read_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The parsed file; an unreadable file or a TOML syntax error becomes a ConfigError."""
    text = read_text(path, what="TOML")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, None, f"invalid TOML: {exc}") from None


def read_text(path: str | os.PathLike[str], what: str = "text", encoding: str = "utf-8") -> str:
    """The file's text; a missing file, a directory, an unreadable file or bytes that are not
    ``encoding`` become a ConfigError naming the file (every config file fails alike)."""
    try:
        return read_bytes(path).decode(encoding)
    except UnicodeDecodeError as exc:
        message = f"invalid {what}: the file is not {encoding.upper()} text (byte {exc.start})"
        raise ConfigError(path, None, message) from None


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """The file's bytes; a missing file, a directory or an unreadable file is a ConfigError."""
    p = Path(path)
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(path, None, "file not found") from None
    except IsADirectoryError:
        raise ConfigError(path, None, f"is a directory, expected a {_expected(p)} file") from None
    except OSError as exc:
        raise ConfigError(path, None, f"cannot be read: {exc.strerror or exc}") from None


def _expected(path: Path) -> str:
    return path.suffix or "configuration"


def validate_model(
    model: type[M],
    data: Any,
    path: str | os.PathLike[str] | None,
    prefix: str = "",
    union_tags: Collection[str] = (),
) -> M:
    """``model`` validated from ``data``; every problem reported against ``path``
    (``union_tags``: see ``issues_from_validation``)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(path, exc, model, prefix, union_tags) from None
