"""Price slots from price entities' attributes, and the time-of-use schedule."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.flexcharging.planner import PriceSlot
from custom_components.flexcharging.prices import (
    PriceFormatError,
    RateSchedule,
    monetary,
    price_unit,
    schedule_slots,
    slots_from_attributes,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
LONDON = ZoneInfo("Europe/London")
COPENHAGEN = ZoneInfo("Europe/Copenhagen")
HOUR = timedelta(hours=1)
QUARTER = timedelta(minutes=15)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local_intervals(day: date, zone: ZoneInfo, step: timedelta) -> list[datetime]:
    """The starts of a local day's intervals, as aware local datetimes (UTC steps: DST-correct)."""
    start = datetime.combine(day, time(), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
    starts = []
    while start < end:
        starts.append(start.astimezone(zone))
        start += step
    return starts


def price_for(index: int) -> float:
    return round(0.5 + (index % 24) * 0.05, 3)


def nordpool_day(day: date, zone: ZoneInfo = STOCKHOLM, step: timedelta = HOUR) -> list[Any]:
    """custom-components/nordpool's raw_today: aware local datetimes, value per kWh."""
    return [
        {
            "start": start,
            "end": (start.astimezone(UTC) + step).astimezone(zone),
            "value": price_for(i),
        }
        for i, start in enumerate(local_intervals(day, zone, step))
    ]


def assert_contiguous(slots: list[PriceSlot], step: timedelta | None = None) -> None:
    for slot, following in pairwise(slots):
        assert slot.end == following.start
    for slot in slots:
        assert slot.start.tzinfo is UTC
        assert slot.end > slot.start
        if step is not None:
            assert slot.end - slot.start == step


# --- the integrations' formats ------------------------------------------------------------------


def test_nordpool_quarter_hour_day_before_tomorrow_is_published() -> None:
    attributes = {
        "unit_of_measurement": "SEK/kWh",
        "unit": "kWh",
        "currency": "SEK",
        "today": [price_for(i) for i in range(96)],
        "tomorrow": [],
        "tomorrow_valid": False,
        "raw_today": nordpool_day(date(2026, 6, 10), step=QUARTER),
        "raw_tomorrow": [],
    }
    slots = slots_from_attributes(attributes, STOCKHOLM)
    assert len(slots) == 96
    assert_contiguous(slots, QUARTER)
    assert slots[0] == PriceSlot(utc(2026, 6, 9, 22), utc(2026, 6, 9, 22, 15), 0.5)
    assert slots[-1].end == utc(2026, 6, 10, 22)
    assert [slot.price for slot in slots] == [price_for(i) for i in range(96)]


@pytest.mark.parametrize(
    ("day", "hours", "first_start"),
    [
        (date(2026, 3, 29), 23, utc(2026, 3, 28, 23)),  # spring forward: 02:00 is skipped
        (date(2026, 10, 25), 25, utc(2026, 10, 24, 22)),  # fall back: 02:00 comes twice
        (date(2026, 6, 10), 24, utc(2026, 6, 9, 22)),
    ],
)
def test_nordpool_hourly_dst_days(day: date, hours: int, first_start: datetime) -> None:
    today = nordpool_day(day)
    tomorrow = nordpool_day(day + timedelta(days=1))
    # As Home Assistant's REST API and recorder serialise them.
    for item in today + tomorrow:
        item["start"], item["end"] = item["start"].isoformat(), item["end"].isoformat()
    slots = slots_from_attributes({"raw_today": today, "raw_tomorrow": tomorrow}, STOCKHOLM)
    assert len(slots) == hours + 24
    assert_contiguous(slots, HOUR)
    assert slots[0].start == first_start
    assert slots[hours].start == datetime.combine(day + timedelta(days=1), time(), STOCKHOLM)


def test_nordpool_unknown_values_leave_gaps() -> None:
    today = nordpool_day(date(2026, 6, 10))
    today[3]["value"] = None
    today[4]["value"] = None
    slots = slots_from_attributes({"raw_today": today, "raw_tomorrow": []}, STOCKHOLM)
    assert len(slots) == 22
    assert slots[2].end == utc(2026, 6, 10, 1)
    assert slots[3].start == utc(2026, 6, 10, 3)
    assert slots[3].price == price_for(5)


def test_energi_data_service_with_forecast() -> None:
    """MTrab/energidataservice: raw_* hold {"hour", "price"}; raw_tomorrow is None until 13:00."""
    hours = local_intervals(date(2026, 1, 27), COPENHAGEN, HOUR)
    attributes = {
        "current_price": 0.878,
        "unit": "kWh",
        "currency": "DKK",
        "tomorrow_valid": False,
        "raw_today": [{"hour": h.isoformat(), "price": price_for(i)} for i, h in enumerate(hours)],
        "raw_tomorrow": None,
        # Overlaps today's last two hours (dropped: published prices win), then goes on.
        "forecast": [
            {"hour": (hours[-1] + timedelta(hours=i)).isoformat(), "price": 9.0 + i}
            for i in range(-1, 3)
        ],
    }
    slots = slots_from_attributes(attributes, COPENHAGEN)
    assert len(slots) == 26
    assert_contiguous(slots, HOUR)
    assert slots[0].start == utc(2026, 1, 26, 23)
    assert [slot.price for slot in slots[22:]] == [price_for(22), price_for(23), 10.0, 11.0]


@pytest.mark.parametrize(
    ("units", "factor"),
    [
        ({"unit_of_measurement": "EUR/kWh"}, 1.0),
        ({"unit_of_measurement": "EUR/MWh"}, 0.001),
        ({"unit_of_measurement": "EUR/Wh"}, 1000.0),
        ({"unit_of_measurement": "€", "unit": "mWh"}, 0.001),  # Energi Data Service's spelling
        ({}, 1.0),
    ],
)
def test_entsoe_quarter_hours_with_energy_scale(units: dict[str, str], factor: float) -> None:
    """JaccoR/hass-entso-e: {"time": str(pandas.Timestamp), "price"}, "prices" repeats them."""
    starts = local_intervals(date(2026, 10, 1), ZoneInfo("Europe/Amsterdam"), QUARTER)
    today = [{"time": str(start), "price": 0.1 + i / 1000} for i, start in enumerate(starts)]
    attributes = {
        **units,
        "prices_today": today,
        "prices_tomorrow": [],
        "prices": today,
    }
    slots = slots_from_attributes(attributes, ZoneInfo("Europe/Amsterdam"))
    assert today[0]["time"] == "2026-10-01 00:00:00+02:00"
    assert len(slots) == 96
    assert_contiguous(slots, QUARTER)
    assert slots[10].price == pytest.approx((0.1 + 10 / 1000) * factor)


def test_tibber_price_info() -> None:
    """Tibber's priceInfo: {"total", "energy", "tax", "startsAt", "level"}."""

    def day(first: date) -> list[dict[str, Any]]:
        return [
            {
                "total": price_for(i),
                "energy": round(price_for(i) * 0.8, 4),
                "tax": round(price_for(i) * 0.2, 4),
                "startsAt": start.isoformat(timespec="milliseconds"),
                "level": "NORMAL",
            }
            for i, start in enumerate(local_intervals(first, ZoneInfo("Europe/Oslo"), HOUR))
        ]

    attributes = {"today": day(date(2026, 5, 7)), "tomorrow": day(date(2026, 5, 8))}
    assert attributes["today"][0]["startsAt"] == "2026-05-07T00:00:00.000+02:00"
    slots = slots_from_attributes(attributes, UTC)
    assert len(slots) == 48
    assert_contiguous(slots, HOUR)
    assert slots[25] == PriceSlot(utc(2026, 5, 7, 23), utc(2026, 5, 8), price_for(1))


def test_octopus_energy_rates_event() -> None:
    """BottlecapDave/HomeAssistant-OctopusEnergy's *_current_day_rates event entity."""
    start = datetime(2026, 3, 29, tzinfo=UTC)
    rates = [
        {
            "start": start + i * timedelta(minutes=30),
            "end": start + (i + 1) * timedelta(minutes=30),
            "value_inc_vat": 0.2415 if 2 <= i < 10 else 0.07,
            "is_capped": False,
            "is_intelligent_adjusted": False,
        }
        for i in range(46)  # the UK day of the clock change has 46 half hours
    ]
    attributes = {
        "event_types": ["octopus_energy_electricity_current_day_rates"],
        "event_type": "octopus_energy_electricity_current_day_rates",
        "rates": rates,
        "tariff_code": "E-1R-AGILE-24-10-01-C",
        "mpan": "1234567890123",
        "serial_number": "19L1234567",
    }
    slots = slots_from_attributes(attributes, LONDON)
    assert len(slots) == 46
    assert_contiguous(slots, timedelta(minutes=30))
    assert slots[-1].end == datetime(2026, 3, 30, tzinfo=LONDON)
    assert [slot.price for slot in slots[:3]] == [0.07, 0.07, 0.2415]


def test_ge_spot_interval_prices() -> None:
    """enoch85/ge-spot 1.5+: {"time": datetime, "value"}; tomorrow empty until published."""
    today = [
        {"time": start, "value": round(1.5 + i / 100, 4)}
        for i, start in enumerate(local_intervals(date(2026, 6, 10), STOCKHOLM, QUARTER))
    ]
    attributes = {
        "unit_of_measurement": "öre/kWh",
        "currency": "SEK",
        "today_interval_prices": today,
        "tomorrow_interval_prices": [],
    }
    slots = slots_from_attributes(attributes, STOCKHOLM)
    assert len(slots) == 96
    assert_contiguous(slots, QUARTER)
    assert slots[-1] == PriceSlot(utc(2026, 6, 10, 21, 45), utc(2026, 6, 10, 22), 2.45)


def test_epex_spot_prices_per_kwh_are_not_rescaled() -> None:
    """mampfes/ha_epex_spot's market price: entity in EUR/MWh, "data" in ct/kWh."""
    attributes = {
        "unit_of_measurement": "EUR/MWh",
        "price_ct_per_kwh": 29.63,
        "data": [
            {
                "start_time": "2026-12-15T23:00:00+00:00",
                "end_time": "2026-12-16T00:00:00+00:00",
                "price_eur_per_mwh": 296.3,
                "price_ct_per_kwh": 29.63,
            },
            {
                "start_time": "2026-12-16T00:00:00+00:00",
                "end_time": "2026-12-16T01:00:00+00:00",
                "price_eur_per_mwh": 288.12,
                "price_ct_per_kwh": 28.812,
            },
        ],
    }
    assert slots_from_attributes(attributes, UTC) == [
        PriceSlot(utc(2026, 12, 15, 23), utc(2026, 12, 16), 29.63),
        PriceSlot(utc(2026, 12, 16), utc(2026, 12, 16, 1), 28.812),
    ]


def test_amber_forecasts_with_five_minute_intervals() -> None:
    """Amber Electric (core): start_time one second after the previous end_time."""
    attributes = {
        "forecasts": [
            {
                "duration": 5,
                "date": "2026-07-07",
                "nem_date": "2026-07-07T13:45:00+10:00",
                "per_kwh": 0.18,
                "spot_per_kwh": 0.11,
                "start_time": "2026-07-07T03:40:01+00:00",
                "end_time": "2026-07-07T03:45:00+00:00",
                "renewables": 49,
            }
        ]
    }
    assert slots_from_attributes(attributes, UTC) == [
        PriceSlot(datetime(2026, 7, 7, 3, 40, 1, tzinfo=UTC), utc(2026, 7, 7, 3, 45), 0.18)
    ]


# --- generic lists -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "duration",
    [15, 15.0, "15", "00:15", "0:15:00", "PT15M", "pt0.25h", "PT900S", timedelta(minutes=15)],
)
def test_duration_forms(duration: object) -> None:
    attributes = {"data": [{"from": "2026-06-10T10:00:00Z", "duration": duration, "price": 1}]}
    assert slots_from_attributes(attributes, UTC) == [
        PriceSlot(utc(2026, 6, 10, 10), utc(2026, 6, 10, 10, 15), 1.0)
    ]


@pytest.mark.parametrize("duration", ["soon", "PT", 0, -15, True, None, "inf", "25:99"])
def test_unusable_duration_falls_back_to_the_default_length(duration: object) -> None:
    attributes = {
        "prices": [{"start_time": "2026-06-10T10:00:00Z", "duration": duration, "value": 1}]
    }
    assert slots_from_attributes(attributes, UTC) == [
        PriceSlot(utc(2026, 6, 10, 10), utc(2026, 6, 10, 11), 1.0)
    ]


def test_end_key_wins_over_duration_and_a_bad_end_falls_back() -> None:
    attributes = {
        "rates": [
            {
                "datetime": "2026-06-10T10:00:00Z",
                "to": "2026-06-10T10:30:00Z",
                "duration": 5,
                "total": 1,
            },
            {
                "datetime": "2026-06-10T11:00:00Z",
                "endsAt": "never",
                "duration": "PT10M",
                "total": 2,
            },
        ]
    }
    assert slots_from_attributes(attributes, UTC) == [
        PriceSlot(utc(2026, 6, 10, 10), utc(2026, 6, 10, 10, 30), 1.0),
        PriceSlot(utc(2026, 6, 10, 11), utc(2026, 6, 10, 11, 10), 2.0),
    ]


def test_missing_ends_follow_the_next_start_or_the_typical_spacing() -> None:
    starts = ["00:00", "00:15", "00:30", "00:45", "01:00", "02:00", "02:15"]
    attributes = {
        "prices": [
            {"timestamp": f"2026-06-10T{hhmm}:00+00:00", "electricity_price": i}
            for i, hhmm in reversed(list(enumerate(starts)))  # order does not matter
        ]
    }
    slots = slots_from_attributes(attributes, UTC)
    assert [(slot.start.strftime("%H:%M"), slot.end.strftime("%H:%M")) for slot in slots] == [
        ("00:00", "00:15"),
        ("00:15", "00:30"),
        ("00:30", "00:45"),
        ("00:45", "01:00"),
        ("01:00", "01:15"),  # the next start is an hour later: a gap after the usual 15 minutes
        ("02:00", "02:15"),
        ("02:15", "02:30"),
    ]
    assert [slot.price for slot in slots] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


def test_a_single_item_lasts_an_hour() -> None:
    attributes = {"raw_tomorrow": [{"hour": "2026-06-11T00:00:00+02:00", "price": 0.4}]}
    assert slots_from_attributes(attributes, STOCKHOLM) == [
        PriceSlot(utc(2026, 6, 10, 22), utc(2026, 6, 10, 23), 0.4)
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (0.25, 0.25),
        (3, 3.0),
        ("0.25", 0.25),
        (" -1.5 ", -1.5),
        ("1e-2", 0.01),
        (None, None),
        ("unknown", None),
        ("unavailable", None),
        ("", None),
        (True, None),
        (float("nan"), None),
        (float("inf"), None),
        ([1.0], None),
    ],
)
def test_price_values(raw: object, expected: float | None) -> None:
    attributes = {
        "prices": [
            {"start": "2026-06-10T10:00:00+00:00", "price": raw},
            {"start": "2026-06-10T11:00:00+00:00", "price": 7},
        ]
    }
    slots = slots_from_attributes(attributes, UTC)
    assert [slot.price for slot in slots] == ([expected, 7.0] if expected is not None else [7.0])
    assert slots[-1].start == utc(2026, 6, 10, 11)


def test_items_without_a_usable_start_or_a_positive_length_are_skipped() -> None:
    attributes = {
        "data": [
            "2026-06-10T09:00:00Z",
            0.5,
            {"start": "13:00", "price": 1},
            {"start": 1781085600, "price": 1},
            {"start": date(2026, 6, 10), "price": 1},
            {"start": None, "price": 1},
            {"price": 1},
            {"start": "2026-06-10T10:00:00Z", "end": "2026-06-10T10:00:00Z", "price": 2},
            {"start": "2026-06-10T11:00:00Z", "end": "2026-06-10T10:00:00Z", "price": 3},
            {"start": "2026-06-10T12:00:00Z", "end": "2026-06-10T13:00:00Z", "price": 4},
        ]
    }
    assert slots_from_attributes(attributes, UTC) == [
        PriceSlot(utc(2026, 6, 10, 12), utc(2026, 6, 10, 13), 4.0)
    ]


NAIVE_FOUR = datetime(2026, 10, 25, 4)  # noqa: DTZ001


def test_naive_timestamps_are_local_and_the_repeated_hour_is_the_second_one() -> None:
    """A naive hourly list of the fall-back day names 02:00 twice: once in CEST, then in CET."""
    walls = ["00", "01", "02", "02", "03"]
    attributes = {
        "prices": [
            {"start": f"2026-10-25T{hh}:00:00", "end": None, "price": i}
            for i, hh in enumerate(walls)
        ]
        # Naive datetimes on purpose, as a template sensor could hand them over.
        + [{"start": NAIVE_FOUR, "end": NAIVE_FOUR + HOUR, "price": 5}]
    }
    slots = slots_from_attributes(attributes, STOCKHOLM)
    assert_contiguous(slots, HOUR)
    assert [slot.start for slot in slots] == [utc(2026, 10, 24, 22 + i) for i in range(2)] + [
        utc(2026, 10, 25, i) for i in range(4)
    ]
    assert [slot.price for slot in slots] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_naive_quarter_hours_in_the_repeated_hour_end_in_the_right_occurrence() -> None:
    walls = [
        "01:45",
        "02:00",
        "02:15",
        "02:30",
        "02:45",
        "02:00",
        "02:15",
        "02:30",
        "02:45",
        "03:00",
    ]
    attributes = {
        "data": [
            {"start": f"2026-10-25T{hhmm}", "end": f"2026-10-25T{end}", "value": i}
            for i, (hhmm, end) in enumerate(pairwise(walls))
        ]
    }
    slots = slots_from_attributes(attributes, STOCKHOLM)
    assert len(slots) == 9
    assert_contiguous(slots, QUARTER)
    assert slots[0].start == utc(2026, 10, 24, 23, 45)
    assert slots[-1].end == utc(2026, 10, 25, 2)


def test_a_naive_time_skipped_by_spring_forward_moves_to_the_change() -> None:
    attributes = {
        "data": [{"start": "2026-03-29T02:30:00", "end": "2026-03-29T04:00:00", "value": 1}]
    }
    assert slots_from_attributes(attributes, STOCKHOLM) == [
        PriceSlot(utc(2026, 3, 29, 1), utc(2026, 3, 29, 2), 1.0)
    ]


def test_lists_are_merged_and_overlapping_later_ones_dropped() -> None:
    attributes = {
        # "data" comes after "prices" in trust: its overlapping slots are dropped.
        "data": [
            {"start": "2026-06-10T09:30:00Z", "end": "2026-06-10T10:30:00Z", "price": 9},
            {"start": "2026-06-10T10:30:00Z", "end": "2026-06-10T10:45:00Z", "price": 9},
            {"start": "2026-06-10T11:00:00Z", "end": "2026-06-10T12:00:00Z", "price": 3},
            {"start": "2026-06-10T07:00:00Z", "end": "2026-06-10T08:00:00Z", "price": 0},
        ],
        "prices": [
            {"start": "2026-06-10T10:00:00Z", "end": "2026-06-10T11:00:00Z", "price": 1},
            {"start": "2026-06-10T08:00:00Z", "end": "2026-06-10T09:00:00Z", "price": 2},
        ],
    }
    assert slots_from_attributes(attributes, UTC) == [
        PriceSlot(utc(2026, 6, 10, 7), utc(2026, 6, 10, 8), 0.0),
        PriceSlot(utc(2026, 6, 10, 8), utc(2026, 6, 10, 9), 2.0),
        PriceSlot(utc(2026, 6, 10, 10), utc(2026, 6, 10, 11), 1.0),
        PriceSlot(utc(2026, 6, 10, 11), utc(2026, 6, 10, 12), 3.0),
    ]


@pytest.mark.parametrize(
    "attributes",
    [
        {"raw_today": [], "raw_tomorrow": []},
        {"raw_tomorrow": None, "unit": "kWh"},
        {"rates": []},
        {"today": [0.1, 0.2], "raw_today": []},
    ],
)
def test_known_but_empty_lists_give_no_slots(attributes: dict[str, Any]) -> None:
    assert slots_from_attributes(attributes, UTC) == []


@pytest.mark.parametrize(
    "attributes",
    [
        {},
        {"unit_of_measurement": "EUR/kWh", "friendly_name": "Price"},
        {"today": [0.1, 0.2, 0.3]},  # Nord Pool's bare floats: no times
        {"forecast": [{"datetime": "2026-06-10T10:00:00Z", "temperature": 21.5}]},
        {"data": "2026-06-10T10:00:00Z=0.25"},
        {"prices": {"2026-06-10T10:00:00Z": 0.25}},
        {"hourly_prices": [{"start": "2026-06-10T10:00:00Z", "price": 0.25}]},
    ],
)
def test_unknown_attributes_raise(attributes: dict[str, Any]) -> None:
    with pytest.raises(PriceFormatError, match="raw_today") as caught:
        slots_from_attributes(attributes, UTC)
    assert "startsAt" in str(caught.value)
    assert "value_inc_vat" in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"unit_of_measurement": "EUR/kWh"}, "EUR"),
        ({"unit_of_measurement": "c/kWh", "currency": "EUR"}, "c"),
        ({"unit_of_measurement": "GBP/kWh"}, "GBP"),
        ({"unit_of_measurement": " SEK / MWh "}, "SEK"),
        ({"unit": "kWh", "currency": "DKK"}, "DKK"),
        ({"unit": "öre/kWh", "currency": "SEK"}, "öre"),
        ({"unit": "NOK"}, "NOK"),
        ({"currency": "EUR"}, "EUR"),
        ({"unit_of_measurement": "kWh"}, None),
        ({"unit_of_measurement": "/kWh"}, None),
        ({"unit_of_measurement": 5, "unit": None}, None),
        ({}, None),
    ],
)
def test_price_unit(attributes: dict[str, Any], expected: str | None) -> None:
    assert price_unit(attributes) == expected


# --- the time-of-use schedule --------------------------------------------------------------------

DAYTIME = (time(7), time(22))
SCHEDULE = RateSchedule(offpeak_price=0.1, peak_price=0.3, weekday_peak=DAYTIME, weekend_peak=None)


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=zone)


def spans(slots: list[PriceSlot], zone: ZoneInfo) -> list[tuple[str, str, float]]:
    fmt = "%a %H:%M"
    return [
        (
            slot.start.astimezone(zone).strftime(fmt),
            slot.end.astimezone(zone).strftime(fmt),
            slot.price,
        )
        for slot in slots
    ]


def test_weekdays_have_a_peak_and_weekends_none() -> None:
    slots = schedule_slots(
        SCHEDULE, local(STOCKHOLM, 2026, 6, 12, 10), local(STOCKHOLM, 2026, 6, 16, 8), STOCKHOLM
    )
    assert spans(slots, STOCKHOLM) == [
        ("Fri 07:00", "Fri 22:00", 0.3),  # starts before `start`
        ("Fri 22:00", "Mon 07:00", 0.1),  # the weekend is off-peak throughout
        ("Mon 07:00", "Mon 22:00", 0.3),
        ("Mon 22:00", "Tue 07:00", 0.1),
        ("Tue 07:00", "Tue 22:00", 0.3),  # ends after `end`
    ]
    assert_contiguous(slots)


def test_a_window_crossing_midnight_belongs_to_the_day_it_starts() -> None:
    night = RateSchedule(
        offpeak_price=0.1, peak_price=0.3, weekday_peak=(time(22), time(6)), weekend_peak=None
    )
    slots = schedule_slots(
        night, local(STOCKHOLM, 2026, 6, 13, 0), local(STOCKHOLM, 2026, 6, 16, 0), STOCKHOLM
    )
    assert spans(slots, STOCKHOLM) == [
        ("Sat 00:00", "Sat 06:00", 0.3),  # Friday's window, although Saturday has no peak
        ("Sat 06:00", "Mon 22:00", 0.1),  # Sunday's would-be window is a weekend one: none
        ("Mon 22:00", "Tue 00:00", 0.3),
    ]


def test_overlapping_windows_of_consecutive_days_are_joined() -> None:
    schedule = RateSchedule(
        offpeak_price=0.1,
        peak_price=0.3,
        weekday_peak=(time(20), time(10)),
        weekend_peak=(time(6), time(9)),
    )
    slots = schedule_slots(
        schedule, local(STOCKHOLM, 2026, 6, 12, 12), local(STOCKHOLM, 2026, 6, 14, 12), STOCKHOLM
    )
    assert spans(slots, STOCKHOLM) == [
        ("Fri 10:00", "Fri 20:00", 0.1),  # Thursday's window ended at 10:00, before `start`
        ("Fri 20:00", "Sat 10:00", 0.3),  # Saturday's 06-09 lies inside Friday's window
        ("Sat 10:00", "Sun 06:00", 0.1),
        ("Sun 06:00", "Sun 09:00", 0.3),
        ("Sun 09:00", "Mon 00:00", 0.1),
    ]


def test_a_window_ending_where_it_starts_lasts_a_day() -> None:
    schedule = RateSchedule(
        offpeak_price=0.1, peak_price=0.3, weekday_peak=(time(8), time(8)), weekend_peak=None
    )
    slots = schedule_slots(
        schedule, local(STOCKHOLM, 2026, 6, 10, 9), local(STOCKHOLM, 2026, 6, 10, 10), STOCKHOLM
    )
    # Tuesday's window runs until 08:00, Wednesday's from then on: one peak, cut at the horizon.
    assert spans(slots, STOCKHOLM) == [("Wed 00:00", "Thu 00:00", 0.3)]


@pytest.mark.parametrize(
    "schedule",
    [
        RateSchedule(offpeak_price=0.2, peak_price=0.4, weekday_peak=None, weekend_peak=None),
        RateSchedule(offpeak_price=0.2, peak_price=0.2, weekday_peak=DAYTIME, weekend_peak=DAYTIME),
    ],
    ids=["no peaks", "equal prices"],
)
def test_without_a_price_change_one_slot_covers_whole_days(schedule: RateSchedule) -> None:
    slots = schedule_slots(
        schedule, local(STOCKHOLM, 2026, 3, 28, 12), local(STOCKHOLM, 2026, 3, 30, 12), STOCKHOLM
    )
    assert slots == [PriceSlot(utc(2026, 3, 27, 23), utc(2026, 3, 30, 22), 0.2)]


@pytest.mark.parametrize(
    ("zone", "day", "window", "peak", "day_hours"),
    [
        # Spring forward 02:00 → 03:00: the window loses an hour.
        (
            STOCKHOLM,
            date(2026, 3, 29),
            (time(1), time(4)),
            (utc(2026, 3, 29, 0), utc(2026, 3, 29, 2)),
            23,
        ),
        # A skipped start moves to 03:00, the first valid instant.
        (
            STOCKHOLM,
            date(2026, 3, 29),
            (time(2, 30), time(3, 30)),
            (utc(2026, 3, 29, 1), utc(2026, 3, 29, 1, 30)),
            23,
        ),
        # Fall back 03:00 → 02:00: the window gains an hour.
        (
            STOCKHOLM,
            date(2026, 10, 25),
            (time(1), time(4)),
            (utc(2026, 10, 24, 23), utc(2026, 10, 25, 3)),
            25,
        ),
        # An ambiguous start is the first occurrence (CEST).
        (
            STOCKHOLM,
            date(2026, 10, 25),
            (time(2, 30), time(5)),
            (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 4)),
            25,
        ),
        (
            LOS_ANGELES,
            date(2026, 3, 8),
            (time(2, 30), time(6)),
            (utc(2026, 3, 8, 10), utc(2026, 3, 8, 13)),
            23,
        ),
        (
            LOS_ANGELES,
            date(2026, 3, 8),
            (time(1), time(4)),
            (utc(2026, 3, 8, 9), utc(2026, 3, 8, 11)),
            23,
        ),
        (
            LOS_ANGELES,
            date(2026, 11, 1),
            (time(1, 30), time(3)),
            (utc(2026, 11, 1, 8, 30), utc(2026, 11, 1, 11)),
            25,
        ),
        (
            LOS_ANGELES,
            date(2026, 11, 1),
            (time(0, 30), time(2)),
            (utc(2026, 11, 1, 7, 30), utc(2026, 11, 1, 10)),
            25,
        ),
    ],
)
def test_dst_days(
    zone: ZoneInfo,
    day: date,
    window: tuple[time, time],
    peak: tuple[datetime, datetime],
    day_hours: int,
) -> None:
    """All four days are Sundays: the weekend window applies."""
    schedule = RateSchedule(
        offpeak_price=0.1, peak_price=0.5, weekday_peak=None, weekend_peak=window
    )
    midnight = datetime.combine(day, time(), zone)
    next_midnight = datetime.combine(day + timedelta(days=1), time(), zone)
    slots = schedule_slots(schedule, midnight, next_midnight, zone)
    assert_contiguous(slots)
    assert [slot.price for slot in slots] == [0.1, 0.5, 0.1]
    assert (slots[1].start, slots[1].end) == peak
    assert slots[0].start == midnight
    assert slots[-1].end == next_midnight
    assert slots[-1].end - slots[0].start == timedelta(hours=day_hours)


def test_a_skipped_local_midnight_starts_the_day_at_the_change() -> None:
    """Chile springs forward at midnight: 2026-09-06 begins at 01:00."""
    santiago = ZoneInfo("America/Santiago")
    schedule = RateSchedule(offpeak_price=0.1, peak_price=0.5, weekday_peak=None, weekend_peak=None)
    slots = schedule_slots(
        schedule, local(santiago, 2026, 9, 6, 12), local(santiago, 2026, 9, 6, 13), santiago
    )
    assert slots == [PriceSlot(utc(2026, 9, 6, 4), utc(2026, 9, 7, 3), 0.1)]


def test_aware_window_times_are_read_as_wall_times() -> None:
    schedule = RateSchedule(
        offpeak_price=0.1,
        peak_price=0.3,
        weekday_peak=(time(7, tzinfo=UTC), time(22, tzinfo=UTC)),
        weekend_peak=None,
    )
    slots = schedule_slots(
        schedule,
        local(LOS_ANGELES, 2026, 6, 10, 12),
        local(LOS_ANGELES, 2026, 6, 10, 13),
        LOS_ANGELES,
    )
    assert slots == [PriceSlot(utc(2026, 6, 10, 14), utc(2026, 6, 11, 5), 0.3)]


def test_empty_and_naive_ranges() -> None:
    moment = local(STOCKHOLM, 2026, 6, 10, 12)
    assert schedule_slots(SCHEDULE, moment, moment, STOCKHOLM) == []
    assert schedule_slots(SCHEDULE, moment, moment - HOUR, STOCKHOLM) == []
    with pytest.raises(ValueError, match="timezone-aware"):
        schedule_slots(SCHEDULE, moment.replace(tzinfo=None), moment + HOUR, STOCKHOLM)
    with pytest.raises(ValueError, match="timezone-aware"):
        schedule_slots(SCHEDULE, moment, (moment + HOUR).replace(tzinfo=None), STOCKHOLM)


def test_the_end_at_local_midnight_adds_no_day() -> None:
    slots = schedule_slots(
        SCHEDULE, local(STOCKHOLM, 2026, 6, 10, 23), local(STOCKHOLM, 2026, 6, 11, 0), STOCKHOLM
    )
    assert slots == [PriceSlot(utc(2026, 6, 10, 20), utc(2026, 6, 10, 22), 0.1)]


WINDOWS = st.one_of(
    st.none(),
    st.tuples(
        st.times().map(lambda t: t.replace(second=0, microsecond=0)),
        st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    ),
)


SCHEDULES = st.builds(
    RateSchedule,
    offpeak_price=st.sampled_from([0.1, 0.2, -0.05]),
    peak_price=st.sampled_from([0.3, 0.2, 1.0]),
    weekday_peak=WINDOWS,
    weekend_peak=WINDOWS,
)


@settings(max_examples=300, deadline=None)
@given(
    schedule=SCHEDULES,
    zone=st.sampled_from([STOCKHOLM, LOS_ANGELES, ZoneInfo("America/Santiago"), UTC]),
    start=st.datetimes(
        min_value=datetime(2026, 1, 1),  # noqa: DTZ001 (hypothesis wants naive bounds)
        max_value=datetime(2027, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    length=st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=9)),
)
def test_slots_cover_the_range_without_gaps(
    schedule: RateSchedule, zone: Any, start: datetime, length: timedelta
) -> None:
    slots = schedule_slots(schedule, start, start + length, zone)
    assert slots
    assert slots[0].start <= start
    assert slots[-1].end >= start + length
    assert_contiguous(slots)
    for slot, following in pairwise(slots):
        assert slot.price != following.price
    assert {slot.price for slot in slots} <= {schedule.offpeak_price, schedule.peak_price}
    if schedule.weekday_peak is None and schedule.weekend_peak is None:
        assert len(slots) == 1


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 6, 10, 6, 59, tzinfo=LOS_ANGELES), 0.1),
        (local(LOS_ANGELES, 2026, 6, 10, 7), 0.3),
        (datetime(2026, 6, 10, 21, 59, tzinfo=LOS_ANGELES), 0.3),
        (local(LOS_ANGELES, 2026, 6, 10, 22), 0.1),
        (local(LOS_ANGELES, 2026, 6, 13, 12), 0.1),  # Saturday
        (utc(2026, 6, 13, 4, 30), 0.3),  # Friday 21:30 in Los Angeles, Saturday in UTC
    ],
)
def test_price_at_a_moment(moment: datetime, expected: float) -> None:
    slots = schedule_slots(SCHEDULE, moment, moment + timedelta(minutes=1), LOS_ANGELES)
    assert len(slots) == 1
    assert slots[0].start <= moment < slots[0].end
    assert slots[0].price == expected


def test_template_sensor_from_core_nord_pool_actions() -> None:
    """README's template sensor: Nord Pool's action response (per MWh) under `prices`."""
    attributes = {
        "unit": "SEK/MWh",
        "prices": [
            {
                "start": "2026-11-30T00:00:00+00:00",
                "end": "2026-11-30T00:15:00+00:00",
                "price": 1234.5,
            },
            {
                "start": "2026-11-30T00:15:00+00:00",
                "end": "2026-11-30T00:30:00+00:00",
                "price": -20.0,
            },
        ],
    }
    slots = slots_from_attributes(attributes, UTC)
    assert [slot.price for slot in slots] == pytest.approx([1.2345, -0.02])
    assert slots[0].start == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    assert slots[1].end == datetime(2026, 11, 30, 0, 30, tzinfo=UTC)
    assert price_unit(attributes) == "SEK"


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (1.5, "EUR", (1.5, "EUR")),
        (150.0, "c", (1.5, "EUR")),
        (150.0, "ct", (1.5, "EUR")),
        (250.0, "öre", (2.5, "EUR")),  # the main currency is Home Assistant's, here EUR
        (None, "c", (None, "EUR")),
        (3.0, None, (3.0, "EUR")),
        (3.0, "SEK", (3.0, "SEK")),
    ],
)
def test_monetary_amounts_are_in_an_iso_currency(
    amount: float | None, currency: str | None, expected: tuple[float | None, str]
) -> None:
    """Costs of prices in cents are shown in the currency itself (an ISO 4217 unit)."""
    assert monetary(amount, currency, "EUR") == expected
