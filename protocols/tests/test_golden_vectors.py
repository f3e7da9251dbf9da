"""Every frame in shared/vectors/frames.json decodes to its expected fields, through the same
entry point ``meterbench decode`` uses."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from meterproto.decode import decode_hex

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors" / "frames.json"
_VECTORS: list[dict[str, Any]] = json.loads(VECTORS.read_text(encoding="utf-8"))["frames"]
_PROTOCOL_NAME = {
    "dlt645-2007": "dlt645-2007",
    "dlt645-1997": "dlt645-1997",
    "cjt188": "cjt188",
    "dlt698": "dlt698",
}


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, float) or isinstance(actual, float):
        return (
            isinstance(actual, int | float)
            and isinstance(expected, int | float)
            and math.isclose(expected, actual, abs_tol=1e-9)
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(_same(e, a) for e, a in zip(expected, actual, strict=True))
        )
    return expected == actual


@pytest.mark.parametrize("vector", _VECTORS, ids=[v["id"] for v in _VECTORS])
def test_vector_decodes_to_expected_fields(vector: dict[str, Any]) -> None:
    result = decode_hex(vector["hex"])
    assert result["valid"] is vector["valid"], result.get("error")
    assert result["protocol"] == _PROTOCOL_NAME[vector["protocol"]]
    wrong = {
        key: (want, result.get(key))
        for key, want in vector["expect"].items()
        if not _same(want, result.get(key))
    }
    assert not wrong, f"fields differ (expected, got): {wrong}"


def test_vectors_cover_every_protocol() -> None:
    assert {v["protocol"] for v in _VECTORS} >= {"dlt645-2007", "dlt645-1997", "cjt188"}
