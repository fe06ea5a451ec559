"""Send times: the local send window, weekdays, public holidays, DST and the frequency cap."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from reengage.platform.timing import Bounds, Calendar, Cap, place

WEEKDAYS = frozenset(range(5))
NEW_YORK = Calendar(ZoneInfo("America/New_York"), time(9), time(18), WEEKDAYS, "US")
CAP = Cap(1, timedelta(hours=24))


def local(calendar: Calendar, moment: datetime) -> datetime:
    return moment.astimezone(calendar.zone)


def test_a_time_inside_the_window_is_kept():
    moment = datetime(2026, 11, 3, 15, 0, tzinfo=UTC)  # Tuesday 10:00 in New York
    assert NEW_YORK.next_open(moment) == (moment, None)


def test_quiet_hours_move_to_the_next_mornings_opening():
    moment, why = NEW_YORK.next_open(datetime(2026, 11, 4, 1, 0, tzinfo=UTC))  # Tuesday 20:00 local
    assert local(NEW_YORK, moment) == datetime(2026, 11, 4, 9, 0, tzinfo=NEW_YORK.zone)
    assert why == "after the send window"


def test_before_opening_waits_for_the_same_days_opening():
    moment, why = NEW_YORK.next_open(datetime(2026, 11, 4, 11, 0, tzinfo=UTC))  # Wednesday 06:00 local
    assert local(NEW_YORK, moment).replace(tzinfo=None) == datetime(2026, 11, 4, 9, 0)
    assert why == "before the send window"


def test_a_window_open_until_midnight_takes_the_days_last_minute_and_keeps_its_weekdays():
    late = Calendar(ZoneInfo("America/New_York"), time(0), None, WEEKDAYS, None)
    friday_night = datetime(2026, 11, 7, 4, 59, 30, tzinfo=UTC)  # Friday 23:59:30 local
    assert late.next_open(friday_night) == (friday_night, None)
    assert late.open_hours(friday_night.astimezone(late.zone).date()) == (
        datetime(2026, 11, 6, 5, 0, tzinfo=UTC), datetime(2026, 11, 7, 5, 0, tzinfo=UTC))
    moment, why = late.next_open(friday_night + timedelta(seconds=30))  # Saturday 00:00
    assert local(late, moment).replace(tzinfo=None) == datetime(2026, 11, 9, 0, 0)
    assert why == "not a send day (sat, sun)"
    assert late.within_hours(time(23, 59)) and not NEW_YORK.within_hours(time(18))


def test_a_weekend_moves_to_monday_naming_every_day_it_skipped():
    moment, why = NEW_YORK.next_open(datetime(2026, 11, 7, 15, 0, tzinfo=UTC))  # Saturday
    assert local(NEW_YORK, moment).replace(tzinfo=None) == datetime(2026, 11, 9, 9, 0)
    assert why == "not a send day (sat, sun)"


def test_a_public_holiday_moves_to_the_next_working_day():
    moment, why = NEW_YORK.next_open(datetime(2026, 11, 26, 15, 0, tzinfo=UTC))  # Thanksgiving
    assert local(NEW_YORK, moment).replace(tzinfo=None) == datetime(2026, 11, 27, 9, 0)
    assert why == "public holiday (Thanksgiving Day)"


def test_holidays_are_the_contacts_countrys():
    berlin = Calendar(ZoneInfo("Europe/Berlin"), time(9), time(18), WEEKDAYS, "DE")
    unity_day = datetime(2028, 10, 3, 14, 0, tzinfo=UTC)  # a Tuesday, a holiday in Germany only
    assert berlin.next_open(unity_day)[0].date().isoformat() == "2028-10-04"
    assert NEW_YORK.next_open(unity_day)[0] == unity_day


def test_days_of_an_offset_keep_the_local_hour_across_a_dst_change():
    anchor = datetime(2026, 10, 30, 14, 0, tzinfo=UTC)  # Friday 10:00 EDT
    planned = NEW_YORK.planned(anchor, timedelta(days=3))
    assert local(NEW_YORK, planned).replace(tzinfo=None) == datetime(2026, 11, 2, 10, 0)  # Monday 10:00 EST
    assert planned == datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def test_an_opening_skipped_by_dst_is_the_same_instant_after_the_jump():
    berlin = Calendar(ZoneInfo("Europe/Berlin"), time(2, 30), time(18), frozenset(range(7)), None)
    moment, _ = berlin.next_open(datetime(2026, 3, 29, 0, 0, tzinfo=UTC))  # 01:00 CET, the night clocks jump
    assert moment == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST


def test_the_cap_moves_a_second_message_a_full_span_later():
    first = datetime(2026, 11, 3, 15, 0, tzinfo=UTC)
    moment, why = place(first + timedelta(hours=2), NEW_YORK, CAP, [first])
    assert moment == first + timedelta(hours=24) and why == "frequency cap"


def test_the_cap_counts_messages_already_scheduled_later_too():
    later = datetime(2026, 11, 4, 15, 0, tzinfo=UTC)
    moment, _ = place(later - timedelta(hours=3), NEW_YORK, CAP, [later])
    assert moment >= later + timedelta(hours=24)


def test_a_larger_cap_allows_that_many_per_span():
    two = Cap(2, timedelta(hours=24))
    first = datetime(2026, 11, 3, 14, 0, tzinfo=UTC)
    assert place(first + timedelta(hours=1), NEW_YORK, two, [first]) == (first + timedelta(hours=1), None)
    third, why = place(first + timedelta(hours=2), NEW_YORK, two, [first, first + timedelta(hours=1)])
    assert third == first + timedelta(hours=24) and why == "frequency cap"


def test_a_message_the_cap_pushes_past_the_window_keeps_both_reasons_in_order():
    friday = datetime(2026, 11, 6, 21, 0, tzinfo=UTC)  # Friday 16:00 in New York, another message at 15:00
    moment, why = place(friday, NEW_YORK, CAP, [friday - timedelta(hours=1)])
    assert local(NEW_YORK, moment).replace(tzinfo=None) == datetime(2026, 11, 9, 9, 0)
    assert why == "frequency cap; not a send day (sat, sun)"


def test_a_step_that_would_leave_its_phase_takes_the_latest_slot_inside_it():
    friday = datetime(2026, 11, 6, 23, 0, tzinfo=UTC)  # Friday 18:00 in New York: the window has closed
    phase = Bounds(friday - timedelta(days=2), friday + timedelta(hours=12), "phase 1 (0-2 days)")
    moment, why = place(friday, NEW_YORK, CAP, [], phase)
    assert local(NEW_YORK, moment).replace(tzinfo=None) == datetime(2026, 11, 6, 17, 59, 59)
    assert why == ("after the send window; not a send day (sat, sun); "
                   "moved earlier to stay inside phase 1 (0-2 days)")
    fully_booked = sorted(friday - timedelta(hours=h) for h in range(0, 50))
    moment, why = place(friday, NEW_YORK, Cap(1, timedelta(hours=2)), fully_booked, phase)
    assert moment > phase.end and why.endswith("no slot inside phase 1 (0-2 days)")


ZONES = ["America/New_York", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney", "America/Sao_Paulo", "UTC"]
COUNTRIES = {"America/New_York": "US", "Europe/Berlin": "DE", "Asia/Tokyo": "JP", "Australia/Sydney": "AU",
             "America/Sao_Paulo": "BR", "UTC": None}


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    start_hour=st.integers(0, 20),
    length=st.integers(1, 24),
    days=st.sets(st.integers(0, 6), min_size=1),
    planned=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)),
    others=st.lists(st.integers(-72, 72), max_size=6),
    limit=st.integers(1, 3),
    phase=st.none() | st.tuples(st.integers(0, 72), st.integers(1, 72)),
)
def test_every_placed_time_obeys_every_rule_and_stays_in_its_phase_when_it_can(
        zone, start_hour, length, days, planned, others, limit, phase):
    end = None if start_hour + length >= 24 else time(start_hour + length, 59)  # None: open until midnight
    calendar = Calendar(ZoneInfo(zone), time(start_hour), end, frozenset(days), COUNTRIES[zone])
    cap = Cap(limit, timedelta(hours=24))
    taken = sorted(planned + timedelta(hours=h) for h in others)
    within = None if phase is None else Bounds(planned - timedelta(hours=phase[0]), planned + timedelta(hours=phase[1]),
                                               "its phase")
    moment, why = place(planned, calendar, cap, taken, within)
    if moment < planned:
        assert within is not None and within.start <= moment and why.endswith("moved earlier to stay inside its phase")
    else:
        assert (why is None) == (moment == planned)
    assert allowed(calendar, cap, taken, moment)
    if within is not None and moment >= within.end:
        # Nothing inside the phase was free: not one minute of it on a ten-minute grid.
        assert why.endswith("no slot inside its phase")
        grid = within.start.replace(second=0, microsecond=0)
        while grid < within.end:
            assert grid < within.start or not allowed(calendar, cap, taken, grid), grid
            grid += timedelta(minutes=10)


def allowed(calendar, cap, taken, moment):
    """Inside the window, on a send day, off holidays, and under the cap: checked from first principles."""
    there = moment.astimezone(calendar.zone)
    if there.weekday() not in calendar.days or calendar.holiday(there.date()) is not None:
        return False
    opening = datetime.combine(there.date(), calendar.start, tzinfo=calendar.zone)
    closing = (datetime.combine(there.date() + timedelta(days=1), time(0), tzinfo=calendar.zone)
               if calendar.end is None else datetime.combine(there.date(), calendar.end, tzinfo=calendar.zone))
    if not opening.astimezone(UTC) <= moment < closing.astimezone(UTC):
        return False
    # The fullest span that holds `moment` starts at a message no later than it.
    every = sorted([*taken, moment])
    return all(sum(first <= t < first + timedelta(hours=24) for t in every) <= cap.messages
               for first in (t for t in every if moment - timedelta(hours=24) < t <= moment))
