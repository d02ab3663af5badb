"""The CloudEvents 1.0 envelope (structured JSON mode) that carries every Rapport event."""

import re
from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

# CloudEvents extension attribute names: lowercase letters and digits, at most 20 characters.
_EXTENSION_NAME = re.compile(r"^[a-z0-9]{1,20}$")
_MAX_EXTENSIONS = 16
_MAX_EXTENSION_TEXT = 256

EventId = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=r"^\S+$")]
CustomerId = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@+\-]*$")
]
AccountId = CustomerId

DataT = TypeVar("DataT", bound=BaseModel)


class StrictModel(BaseModel):
    """Data models refuse unknown fields: a typo upstream must fail loudly, not vanish."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class CloudEvent(BaseModel, Generic[DataT]):
    """A CloudEvents 1.0 envelope; extension attributes are accepted and kept, the data is strict."""

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"]
    id: EventId = Field(description="The producer's idempotency key: the same id is stored once.")
    source: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    type: str
    time: AwareDatetime = Field(description="When it happened, with a time zone.")
    subject: CustomerId | None = Field(default=None, description="The customer id; defaults to data's.")
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: Annotated[str, StringConstraints(max_length=1024)] | None = None
    data: DataT

    @model_validator(mode="after")
    def _check_extensions(self) -> "CloudEvent[DataT]":
        extras = self.model_extra or {}
        if len(extras) > _MAX_EXTENSIONS:
            raise ValueError(f"at most {_MAX_EXTENSIONS} extension attributes are accepted")
        for name, value in extras.items():
            if not _EXTENSION_NAME.match(name):
                raise ValueError(f"extension attribute {name!r} must be 1-20 lowercase letters or digits")
            if not isinstance(value, str | int | bool) or len(str(value)) > _MAX_EXTENSION_TEXT:
                raise ValueError(f"extension attribute {name!r} must be a short string, integer or boolean")
        return self

    @property
    def extensions(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    @property
    def occurred_at(self) -> datetime:
        return self.time
