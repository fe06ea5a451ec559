"""Request field types: 64-bit integers (bodies, queries, paths), time zones, phones, emails, countries, money."""

import json
import zoneinfo
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any

import phonenumbers
from marshmallow import ValidationError, fields, validate
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from reengage.platform import durations

SLUG = validate.Regexp(r"^[a-z0-9][a-z0-9_.-]{0,99}$", error="Use 1-100 lower-case letters, digits, '_', '.' or '-'.")
# A sender's free-form properties stay small enough to index and show.
MAX_PROPERTIES_BYTES = 32 * 1024
# A credential sent on in an HTTP header, which can carry printable ASCII only.
HEADER_TOKEN = validate.Regexp(r"^[!-~]+$", error="Use the credential as issued: printable ASCII, no spaces.")
# Every integer the database stores or compares is a signed 64-bit BIGINT.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class Int64(fields.Integer):
    """An integer that fits a 64-bit database column, so that no lookup or filter overflows."""

    def __init__(self, **kwargs: Any) -> None:
        given = kwargs.pop("validate", None)
        extra = [given] if callable(given) else list(given or [])
        metadata = {"format": "int64", **kwargs.pop("metadata", {})}
        super().__init__(validate=[validate.Range(INT64_MIN, INT64_MAX), *extra], metadata=metadata, **kwargs)


class Int64Converter(IntegerConverter):
    """A path's `<int:...>` id: a number no row can have is not found, rather than overflowing the lookup."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(map, *args, **{"max": INT64_MAX, **kwargs})

    def to_python(self, value: str) -> int:
        # Too many digits is out of range without converting (Python refuses over 4,300 of them).
        digits = value.lstrip("0")
        if len(digits) > len(str(INT64_MAX)) or int(digits or 0) > INT64_MAX:
            raise NotFound(f"Nothing has the id {value[:40]}: ids are at most {INT64_MAX}.")
        return super().to_python(value)


def int64_parameter(converter: IntegerConverter) -> dict[str, Any]:
    """How a path's id is documented in openapi.yaml."""
    return {"type": "integer", "format": "int64", "minimum": 0, "maximum": converter.max}


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class Timezone(fields.String):
    """An IANA time zone name such as `Europe/Paris`."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        name = super()._deserialize(value, attr, data, **kwargs)
        if name not in _timezones():
            raise ValidationError(f"Unknown time zone {name!r}: use an IANA name such as 'America/New_York'.")
        return name


@lru_cache(maxsize=65536)
def e164(raw: str) -> str | None:
    """`raw` in E.164, or None when it is not a possible international number."""
    try:
        number = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class Phone(fields.String):
    """A phone number with its country code, normalised to E.164 (`+14155552671`)."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        normalised = e164(super()._deserialize(value, attr, data, **kwargs))
        if normalised is None:
            raise ValidationError("Not a valid phone number: give it with its country code, e.g. '+14155552671'.")
        return normalised


class Email(fields.Email):
    """An email address, lower-cased so that matching ignores case."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip().lower()


class Money(fields.Decimal):
    """A non-negative amount of money, kept exact to four places."""

    LIMIT = Decimal(10) ** 13

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"minimum": 0, "maximum": int(self.LIMIT), **kwargs.pop("metadata", {})}
        super().__init__(places=4, metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> Decimal:
        amount = super()._deserialize(value, attr, data, **kwargs)
        if not 0 <= amount <= self.LIMIT:
            raise ValidationError(f"Must be between 0 and {self.LIMIT:,}.")
        return amount


class Country(fields.String):
    """An ISO 3166-1 alpha-2 country code, upper-cased."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        code = super()._deserialize(value, attr, data, **kwargs).strip().upper()
        if len(code) != 2 or not code.isalpha():
            raise ValidationError("Not a country code: use ISO 3166-1 alpha-2, e.g. 'US'.")
        return code


class Properties(fields.Dict):
    """A free-form JSON object of bounded size."""

    def __init__(self, **kwargs):
        super().__init__(keys=fields.String(), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> dict:
        if type(value) is dict and all(type(key) is str for key in value):
            result = dict(value)  # what the keys' field makes of keys that are strings already, without its calls
        else:
            result = super()._deserialize(value, attr, data, **kwargs)
        if len(json.dumps(result, default=str)) > MAX_PROPERTIES_BYTES:
            raise ValidationError(f"Too large: at most {MAX_PROPERTIES_BYTES} bytes of JSON.")
        return result


MAX_SPAN = timedelta(days=365)


class Duration(fields.String):
    """A duration as people write it (`PT24H`, `24h`, `3d`), kept as written."""

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            span = durations.parse(text)
        except ValueError as error:
            raise ValidationError(str(error)) from None
        if not timedelta(0) < span <= MAX_SPAN:
            raise ValidationError("Must be more than nothing and at most 365 days.")
        return text
