"""The fast path through a schema never disagrees with the schema itself."""

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from reengage.intake import fastload
from reengage.intake.schemas import ContactInputSchema, EventInputSchema

EVENT = EventInputSchema()
CONTACT = ContactInputSchema()

# Values that are sometimes right and often wrong for each field, so both paths are exercised.
text = st.one_of(st.text(max_size=8), st.just(""), st.text(min_size=250, max_size=260), st.integers(), st.none())
emails = st.one_of(st.just("Dana@Example.com"), st.just("dana@example"), st.just(" x@y.io "), text)
phones = st.one_of(st.just("+1 415 555 2671"), st.just("+442071838750"), st.just("555-1234"), text)
zones = st.one_of(st.just("Europe/Paris"), st.just("Mars/Olympus"), st.just("utc"), st.none(), st.integers())
countries = st.one_of(st.just("us"), st.just("USA"), st.just("1A"), st.none())
consents = st.one_of(
    st.dictionaries(st.sampled_from(["email", "sms", "fax"]), st.one_of(st.booleans(), st.none(), st.just("yes"))),
    st.just([]),
)
times = st.one_of(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1)).map(lambda d: d.isoformat()),
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
    st.just("2026-01-01T10:00:00Z"), st.just("2026-01-01"), st.just("yesterday"), st.none(), st.integers(),
)
money = st.one_of(st.integers(-5, 10**14), st.floats(allow_nan=True), st.just("12.50"), st.just(True), st.none())
properties = st.one_of(
    st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=5), st.none()), max_size=3),
    st.just({"blob": "x" * 40_000}), st.just([1]), st.just({1: 2}),
)
contacts = st.one_of(
    st.fixed_dictionaries({}, optional={
        "external_id": text, "email": emails, "phone": phones, "hubspot_id": text, "first_name": text,
        "last_name": text, "timezone": zones, "country": countries, "properties": properties, "consent": consents,
        "nickname": text,
    }),
    st.just("dana@example.com"),
)
events = st.fixed_dictionaries(
    {"id": text, "type": text, "contact": contacts},
    optional={
        "occurred_at": times, "properties": properties, "value": money, "currency": st.sampled_from(["USD", "usd"]),
        "source": text, "colour": text,
    },
)


def full(schema, raw):
    try:
        return schema.load(raw)
    except ValidationError:
        return None


def same_moment(a: dict, b: dict) -> bool:
    """Equal, but for a defaulted `occurred_at` (each path reads the clock itself)."""
    if "occurred_at" in a and "occurred_at" in b:
        if abs((a["occurred_at"] - b["occurred_at"]).total_seconds()) < 5:
            a, b = {**a, "occurred_at": None}, {**b, "occurred_at": None}
    return a == b


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(events)
def test_fast_event_load_agrees_with_the_schema(raw):
    quick = fastload.load(EVENT, raw)
    if quick is not None:
        expected = full(EVENT, raw)
        assert expected is not None, "fast path accepted what the schema rejects"
        assert same_moment(quick, expected)


@settings(max_examples=300)
@given(contacts)
def test_fast_contact_load_agrees_with_the_schema(raw):
    quick = fastload.load(CONTACT, raw)
    if quick is not None:
        assert quick == full(CONTACT, raw)


def test_well_formed_event_takes_the_fast_path():
    raw = {"id": "e1", "type": "t", "contact": {"email": "Dana@Example.com", "phone": "+1 415 555 2671"},
           "occurred_at": "2026-01-01T10:00:00Z", "value": 12.5}
    expected = EVENT.load(raw)  # a full load first: it must not switch the fast path off
    quick = fastload.load(EVENT, raw)
    assert quick is not None and quick == expected
    assert quick["contact"] == {"email": "dana@example.com", "phone": "+14155552671"}


def test_anything_doubtful_is_left_to_the_schema():
    assert fastload.load(EVENT, {"id": "e1", "type": "t", "contact": {"email": "nope"}}) is None
    assert fastload.load(EVENT, {"id": "e1", "type": "t", "contact": {}}) is None
    assert fastload.load(EVENT, {"id": "e1", "type": "t", "contact": {"email": "a@b.co"}, "x": 1}) is None
    assert fastload.load(EVENT, ["not", "a", "dict"]) is None
