"""The base of every configuration section: strict pydantic models (unknown keys are errors, numbers are
numbers), the error a configuration raises, and the value types the sections share. The sections live beside
the models they configure (``twin/smelter/config.py``, ``twin/refinery/config.py``, ``twin/site/config.py``);
``twin.config`` assembles them into a park and reads the files."""
from __future__ import annotations

import types
import typing
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]


def _printable(name: str) -> str:
    """A name that labels cells and lines in results, reports and logs: no line breaks or control characters."""
    if not name.isprintable():
        raise ValueError("a name is printable text on one line (no line breaks, tabs or control characters)")
    return name


# a potline's or a product's name
Name = Annotated[str, Field(min_length=1, max_length=40), AfterValidator(_printable)]


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the file, the key and the value."""


class HistorianError(ValueError):
    """An export or tag map that cannot be read; the message names the file, row or key and the value (raised by
    ``twin.historian``; here so a command can catch it without importing pandas and pint)."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _numbers_are_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """A number is a number: ``true`` is not 1 kA or 1 cell, and a count (an integer key) takes no decimal
        point (``seed = 1.0``), where pydantic's lax mode would take both."""
        assert info.field_name is not None
        kinds = _number_kinds(cls.model_fields[info.field_name].annotation)
        if kinds and isinstance(value, bool):
            raise ValueError(f"a number is needed here, not {str(value).lower()}")
        if kinds == {int} and isinstance(value, float):
            raise ValueError("a whole number is needed here, written without a decimal point")
        return value


def _number_kinds(annotation: Any) -> set[type]:
    """The number types (int, float) a field's type admits; empty for other fields."""
    union = isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union
    return {a for a in (typing.get_args(annotation) if union else (annotation,)) if a in (int, float)}

