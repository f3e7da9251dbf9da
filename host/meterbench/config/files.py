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
    """The parsed file; a missing file or a TOML syntax error becomes a ConfigError."""
    p = Path(path)
    try:
        with p.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(path, None, "file not found") from None
    except IsADirectoryError:
        raise ConfigError(path, None, "is a directory, expected a .toml file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, None, f"invalid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(path, None, "invalid TOML: the file is not UTF-8 text") from None


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
