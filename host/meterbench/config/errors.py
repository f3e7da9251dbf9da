"""One error type for every configuration file: it names the file and the field.

Bench configs, meter types, meter lists, plans and regulation profiles all fail the same way, so
an operator always reads ``bench_configs/meter_types/x.toml: field 'imax_a': must be greater than
ib_a`` and knows what to edit. Nothing starts on a bad file.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ValidationError


@dataclass(frozen=True)
class ConfigIssue:
    """One problem: the dotted field path (``items[2].points[0].current``) or None for the
    whole file, and what is wrong."""

    field: str | None
    message: str

    def render(self, path: str) -> str:
        if not path:
            return self.message
        if self.field:
            return f"{path}: field '{self.field}': {self.message}"
        return f"{path}: {self.message}"


class ConfigError(Exception):
    """A configuration file that cannot be used. ``str()`` gives one line per problem.

    ``ConfigError(path, field, message)`` names file and field; ``ConfigError(path,
    issues=[...])`` carries several problems; ``ConfigError("ready-made message")`` is kept as
    given."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None,
        field: str | None = None,
        message: str = "",
        *,
        issues: Sequence[ConfigIssue] | None = None,
    ) -> None:
        if field is None and not message and not issues:
            # ConfigError("x.toml: file not found"): one ready-made message, nothing to add.
            self.path = ""
            self.issues: tuple[ConfigIssue, ...] = (ConfigIssue(None, str(path or "")),)
        else:
            self.path = display_path(path)
            self.issues = tuple(issues) if issues else (ConfigIssue(field, message),)
        super().__init__(str(self))

    @property
    def field(self) -> str | None:
        """Field of the first problem (most callers report one)."""
        return self.issues[0].field

    @property
    def message(self) -> str:
        return self.issues[0].message

    def __str__(self) -> str:
        return "\n".join(issue.render(self.path) for issue in self.issues)

    def one_line(self) -> str:
        """Every problem on one line (what the command prints: logs and scripts read one line)."""
        return "; ".join(issue.render(self.path) for issue in self.issues)


class FieldProblem(ValueError):
    """Raise inside a pydantic validator to blame a named field (relative to the model being
    validated) for a cross-field rule, e.g. ``FieldProblem('imax_a', 'must be greater than
    ib_a')``; ``issues_from_validation`` puts the name into the reported path."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def display_path(path: str | os.PathLike[str] | None) -> str:
    """The path as the operator typed it, or relative to the working directory when it lies
    below it (so messages read ``bench_configs/...``, not ``/home/...``)."""
    if path is None:
        return "<configuration>"
    p = Path(path)
    if p.is_absolute():
        try:
            relative = p.relative_to(Path.cwd())
        except ValueError:
            return p.as_posix()
        return relative.as_posix() if relative.parts else p.as_posix()
    return p.as_posix() if isinstance(path, Path) else str(path)


def format_location(loc: Iterable[str | int]) -> str:
    """('items', 2, 'points', 0, 'current') -> 'items[2].points[0].current'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def issues_from_validation(
    exc: ValidationError,
    model: type[BaseModel] | None = None,
    prefix: str = "",
    union_tags: Collection[str] = (),
) -> list[ConfigIssue]:
    """Turn pydantic's report into file-and-field issues with plain messages. ``model`` lets
    unknown fields get a 'did you mean' hint; ``prefix`` is prepended to every field path;
    ``union_tags`` are discriminator values pydantic puts into locations (``items[2].creep``)
    and that the file does not contain, so they are left out."""
    known = _field_names(model) if model is not None else set()
    issues: list[ConfigIssue] = []
    for error in exc.errors():
        loc = _without_tags(list(error.get("loc", ())), union_tags)
        kind = error.get("type", "")
        ctx = error.get("ctx") or {}
        cause = ctx.get("error")
        if isinstance(cause, FieldProblem):
            loc.extend(cause.field.split("."))
            message = cause.message
        elif kind == "missing":
            message = "required field is missing"
        elif kind == "extra_forbidden":
            message = "unknown field"
            name = str(loc[-1]) if loc else ""
            close = difflib.get_close_matches(name, sorted(known), n=1)
            if close:
                message += f" (did you mean '{close[0]}'?)"
        elif kind in ("union_tag_invalid", "union_tag_not_found"):
            loc.append(str(ctx.get("discriminator", "type")).strip("'"))
            expected = ctx.get("expected_tags", "")
            message = (
                f"unknown value {ctx.get('tag')!r} (expected one of {expected})"
                if kind == "union_tag_invalid"
                else "required field is missing"
            )
        else:
            message = _plain(str(error.get("msg", "invalid value")))
            value = error.get("input")
            if (
                isinstance(value, str | int | float)
                and not isinstance(value, bool)
                and repr(value) not in message
            ):
                message += f" (got {value!r})"
        field = format_location(loc)
        if prefix:
            field = f"{prefix}.{field}" if field and not field.startswith("[") else prefix + field
        issues.append(ConfigIssue(field or None, message))
    return issues


def validation_error(
    path: str | os.PathLike[str] | None,
    exc: ValidationError,
    model: type[BaseModel] | None = None,
    prefix: str = "",
    union_tags: Collection[str] = (),
) -> ConfigError:
    """A ConfigError for ``path`` carrying every problem pydantic found."""
    return ConfigError(path, issues=issues_from_validation(exc, model, prefix, union_tags))


def _without_tags(loc: list[str | int], tags: Collection[str]) -> list[str | int]:
    out: list[str | int] = []
    for part in loc:
        if isinstance(part, str) and part in tags and out and isinstance(out[-1], int):
            continue
        out.append(part)
    return out


def _plain(message: str) -> str:
    for noise in ("Value error, ", "Assertion failed, "):
        if message.startswith(noise):
            message = message[len(noise) :]
    if message.startswith("Input should be"):
        message = "must be" + message[len("Input should be") :]
    if len(message) > 1 and message[0].isupper() and message[1].islower():
        message = message[0].lower() + message[1:]
    return message


def _field_names(model: type[BaseModel], seen: set[type] | None = None) -> set[str]:
    """Every field name and alias in ``model`` and the models nested in it."""
    seen = seen if seen is not None else set()
    if model in seen:
        return set()
    seen.add(model)
    names: set[str] = set()
    for name, info in model.model_fields.items():
        names.add(info.alias or name)
        for sub in _nested_models(info.annotation):
            names |= _field_names(sub, seen)
    return names


def _nested_models(annotation: object) -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    for arg in getattr(annotation, "__args__", ()) or ():
        found.extend(_nested_models(arg))
    return found
