"""What plan items of the heat and gas kinds share: an id, a title, the id records use.

Why a module of its own: ``plans.py`` assembles every kind's items into one discriminated
union, so the kind modules must not import it back.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

PositiveDecimal = Annotated[Decimal, Field(gt=0)]


class KindStrict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class KindItem(KindStrict):
    id: str = Field(default="", pattern=r"^$|^[a-z][a-z0-9_]*$")
    title: str = ""

    @property
    def item_id(self) -> str:
        """The id records use: the given one, else the item type."""
        return self.id or self.type  # type: ignore[attr-defined]
