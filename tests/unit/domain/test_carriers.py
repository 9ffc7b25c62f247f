import random
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transactional.domain.carriers import (
    TRACKING_TRANSITIONS,
    Carrier,
    Quote,
    ServiceLevel,
    ShipmentState,
    TrackingStatus,
    add_business_days,
    apply_tracking_event,
    choose_service,
    order_status_after_tracking,
    order_status_from_shipments,
    quote,
    quote_all,
)
from transactional.domain.errors import IllegalTransition, Invalid
from transactional.domain.orders import TRANSITIONS, OrderStatus

T = TrackingStatus
NEW_YORK_SUMMER = timezone(timedelta(hours=-4))


def service(**overrides) -> ServiceLevel:
    fields = {
        "carrier_code": "ups",
        "code": "ground",
        "name": "UPS Ground",
        "handling_hours": 24,
        "transit_days": {"*": 3, "NY": 1},
        "base_minor": 500,
        "per_kg_minor": 150,
    }
    fields.update(overrides)
    return ServiceLevel(**fields)


# --- catalogue ----------------------------------------------------------------------------------


def test_carrier_validation():
    assert Carrier("sf_express", "SF Express").code == "sf_express"
    for code, name, err_code in [
        ("UPS", "UPS", "invalid_carrier_code"),
        ("u", "x", "invalid_carrier_code"),
        ("ups", " ", "invalid_carrier_name"),
    ]:
        with pytest.raises(Invalid) as err:
            Carrier(code, name)
        assert err.value.code == err_code


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"code": "Ground"}, "invalid_service_code"),
        ({"carrier_code": "1ups"}, "invalid_carrier_code"),
        ({"name": ""}, "invalid_service_name"),
        ({"handling_hours": -1}, "invalid_handling_hours"),
        ({"handling_hours": 1.5}, "invalid_handling_hours"),
        ({"transit_days": {}}, "invalid_transit_days"),
        ({"transit_days": {"NY": -1}}, "invalid_transit_days"),
        ({"transit_days": {"": 2}}, "invalid_transit_days"),
        ({"transit_days": {"NY": True}}, "invalid_transit_days"),
        ({"base_minor": -1}, "invalid_rate"),
        ({"per_kg_minor": 1.0}, "invalid_rate"),
        ({"max_weight_grams": 0}, "invalid_weight_limit"),
    ],
)
def test_service_level_validation(overrides, code):
    with pytest.raises(Invalid) as err:
        service(**overrides)
    assert err.value.code == code


def test_transit_days_are_a_private_copy():
    days = {"*": 3}
    s = service(transit_days=days)
    days["*"] = 0
    assert s.transit_days_for("TX") == 3
    with pytest.raises(TypeError):
        s.transit_days["*"] = 1  # type: ignore[index]


def test_region_lookup_with_fallback():
    s = service()
    assert s.transit_days_for("NY") == 1
    assert s.transit_days_for("CA") == 3
    regional = service(transit_days={"NY": 1})
    assert not regional.serves("CA")
    with pytest.raises(Invalid) as err:
        regional.transit_days_for("CA")
    assert err.value.code == "region_not_served"
    assert err.value.extra == {"region": "CA"}


@pytest.mark.parametrize(("grams", "cost"), [(1, 650), (999, 650), (1000, 650), (1001, 800), (20_000, 3500)])
def test_rate_rule_charges_whole_kg_rounded_up(grams, cost):
    assert service().cost_minor(grams) == cost


def test_rate_rule_errors():
    for grams in (0, -5, 1.5, True):
        with pytest.raises(Invalid) as err:
            service().cost_minor(grams)
        assert err.value.code == "invalid_weight"
    with pytest.raises(Invalid) as err:
        service(max_weight_grams=30_000).cost_minor(30_001)
    assert err.value.code == "over_weight_limit"
    assert service(max_weight_grams=30_000).cost_minor(30_000) == 500 + 150 * 30


# --- promises -----------------------------------------------------------------------------------


def test_add_business_days():
    friday, saturday = date(2024, 5, 3), date(2024, 5, 4)
    assert add_business_days(friday, 0) == friday
    assert add_business_days(friday, 1) == date(2024, 5, 6)
    assert add_business_days(saturday, 0) == saturday
    assert add_business_days(saturday, 1) == date(2024, 5, 6)
    assert add_business_days(date(2024, 5, 1), 2) == friday
    assert add_business_days(friday, 1, holidays=[date(2024, 5, 6)]) == date(2024, 5, 7)
    with pytest.raises(ValueError):
        add_business_days(friday, -1)


@given(start=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 1, 1)), days=st.integers(0, 40))
def test_property_business_days(start, days):
    end = add_business_days(start, days)
    between = [start + timedelta(d) for d in range(1, (end - start).days + 1)]
    assert sum(1 for d in between if d.weekday() < 5) == days
    if days:
        assert end.weekday() < 5


def test_quote_thursday_order_next_day_dispatch_one_transit_day():
    placed = datetime(2024, 5, 2, 10, 0, tzinfo=NEW_YORK_SUMMER)  # Thursday
    q = quote(service(), "NY", 1500, placed)
    assert q == Quote(
        carrier_code="ups",
        service_code="ground",
        region="NY",
        weight_grams=1500,
        cost_minor=800,
        transit_days=1,
        promised_dispatch_by=datetime(2024, 5, 3, 10, 0, tzinfo=NEW_YORK_SUMMER),
        promised_delivery_date=date(2024, 5, 6),  # Friday dispatch + 1 business day = Monday
    )


def test_quote_dates_are_taken_in_the_store_timezone():
    # 02:00 UTC on Friday is still Thursday evening in New York.
    placed = datetime(2024, 5, 3, 2, 0, tzinfo=UTC)
    s = service(handling_hours=0, transit_days={"*": 1})
    assert quote(s, "TX", 100, placed).promised_delivery_date == date(2024, 5, 6)
    assert quote(s, "TX", 100, placed, tz=NEW_YORK_SUMMER).promised_delivery_date == date(2024, 5, 3)
    assert quote(s, "TX", 100, placed, tz=NEW_YORK_SUMMER).promised_dispatch_by == placed


def test_quote_needs_an_aware_instant_and_a_served_region():
    with pytest.raises(ValueError):
        quote(service(), "NY", 100, datetime(2024, 5, 2, 10, 0))
    with pytest.raises(Invalid) as err:
        quote(service(transit_days={"NY": 1}), "CA", 100, datetime(2024, 5, 2, tzinfo=UTC))
    assert err.value.code == "region_not_served"


def test_quote_all_skips_services_that_cannot_take_the_parcel():
    placed = datetime(2024, 5, 2, 10, 0, tzinfo=UTC)
    services = [
        service(),
        service(code="express", handling_hours=4, transit_days={"NY": 1}, base_minor=1500),
        service(code="freight", max_weight_grams=1000),
    ]
    assert [q.service_code for q in quote_all(services, "CA", 1500, placed)] == ["ground"]
    assert [q.service_code for q in quote_all(services, "NY", 500, placed)] == [
        "ground",
        "express",
        "freight",
    ]


# --- choosing -----------------------------------------------------------------------------------


def q(code: str, cost: int, delivery: date, dispatch_hour: int = 10, carrier: str = "ups") -> Quote:
    return Quote(
        carrier_code=carrier,
        service_code=code,
        region="NY",
        weight_grams=1000,
        cost_minor=cost,
        transit_days=1,
        promised_dispatch_by=datetime(2024, 5, 2, dispatch_hour, tzinfo=UTC),
        promised_delivery_date=delivery,
    )


def test_choose_cheapest_meeting_the_deadline_else_fastest():
    ground = q("ground", 600, date(2024, 5, 8))
    express = q("express", 1500, date(2024, 5, 6))
    overnight = q("overnight", 3000, date(2024, 5, 3))
    quotes = [ground, express, overnight]
    assert choose_service(quotes) == ground
    assert choose_service(quotes, deliver_by=date(2024, 5, 8)) == ground
    assert choose_service(quotes, deliver_by=date(2024, 5, 7)) == express
    assert choose_service(quotes, deliver_by=date(2024, 5, 3)) == overnight
    # Nothing makes it: the fastest, even though dearest.
    assert choose_service(quotes, deliver_by=date(2024, 5, 2)) == overnight


def test_choose_ties_are_deterministic():
    a = q("a_service", 600, date(2024, 5, 8), carrier="dhl")
    b = q("b_service", 600, date(2024, 5, 8), carrier="dhl")
    earlier = q("z_service", 600, date(2024, 5, 7), carrier="zz")
    assert choose_service([b, a]) == a
    assert choose_service([b, a, earlier]) == earlier
    fast_cheap = q("x", 900, date(2024, 5, 3), carrier="fedex")
    fast_dear = q("y", 950, date(2024, 5, 3), carrier="dhl")
    assert choose_service([fast_dear, fast_cheap], deliver_by=date(2024, 5, 1)) == fast_cheap


def test_choose_from_nothing():
    with pytest.raises(Invalid) as err:
        choose_service([])
    assert err.value.code == "no_carrier_service"


quotes_strategy = st.lists(
    st.builds(
        q,
        code=st.sampled_from(["a", "b", "c", "d"]),
        cost=st.integers(0, 3000),
        delivery=st.dates(min_value=date(2024, 5, 1), max_value=date(2024, 5, 20)),
        dispatch_hour=st.integers(0, 23),
        carrier=st.sampled_from(["dhl", "ups"]),
    ),
    min_size=1,
    max_size=8,
)


@given(
    quotes=quotes_strategy,
    deliver_by=st.none() | st.dates(min_value=date(2024, 5, 1), max_value=date(2024, 5, 20)),
    seed=st.integers(),
)
def test_property_choice(quotes, deliver_by, seed):
    chosen = choose_service(quotes, deliver_by=deliver_by)
    assert chosen in quotes
    shuffled = list(quotes)
    random.Random(seed).shuffle(shuffled)
    assert choose_service(shuffled, deliver_by=deliver_by) == chosen
    meeting = [x for x in quotes if deliver_by is None or x.promised_delivery_date <= deliver_by]
    if meeting:
        assert chosen in meeting
        assert chosen.cost_minor == min(x.cost_minor for x in meeting)
    else:
        assert chosen.promised_delivery_date == min(x.promised_delivery_date for x in quotes)


# --- tracking -----------------------------------------------------------------------------------


def test_tracking_happy_path_and_skips():
    status = T.label_created
    for event in ["picked_up", "in_transit", "out_for_delivery", "delivered"]:
        status = apply_tracking_event(status, event)
    assert status is T.delivered
    assert apply_tracking_event("label_created", "in_transit") is T.in_transit
    assert apply_tracking_event("picked_up", "delivered") is T.delivered


def test_exception_and_recovery():
    assert apply_tracking_event("in_transit", "exception") is T.exception
    assert apply_tracking_event("label_created", "exception") is T.exception
    for recovered in ["in_transit", "out_for_delivery", "delivered"]:
        assert apply_tracking_event("exception", recovered) is T(recovered)
    with pytest.raises(IllegalTransition):
        apply_tracking_event("exception", "label_created")


def test_duplicates_are_idempotent():
    for status in TrackingStatus:
        assert apply_tracking_event(status, status) is status


def test_illegal_tracking_moves():
    with pytest.raises(IllegalTransition) as err:
        apply_tracking_event("in_transit", "picked_up")
    assert err.value.code == "illegal_tracking_transition"
    assert err.value.kind == "conflict"
    assert err.value.extra == {"current": "in_transit", "target": "picked_up"}
    for event in ["exception", "in_transit", "label_created"]:
        with pytest.raises(IllegalTransition):
            apply_tracking_event("delivered", event)
    with pytest.raises(Invalid) as err:
        apply_tracking_event("in_transit", "lost")
    assert err.value.code == "invalid_tracking_status"


def test_every_live_status_can_still_reach_delivered_and_exception():
    for status in TrackingStatus:
        if status is T.delivered:
            assert not TRACKING_TRANSITIONS[status]
            continue
        assert T.delivered in TRACKING_TRANSITIONS[status]
        assert status is T.exception or T.exception in TRACKING_TRANSITIONS[status]


MAIN_LINE = [T.label_created, T.picked_up, T.in_transit, T.out_for_delivery, T.delivered]


@given(events=st.lists(st.sampled_from(list(TrackingStatus)), max_size=20))
def test_property_tracking_never_goes_back(events):
    status = T.label_created
    furthest = 0
    for event in events:
        try:
            new = apply_tracking_event(status, event)
        except IllegalTransition:
            continue
        if status is T.delivered:
            assert new is T.delivered
        if new in MAIN_LINE:
            rank = MAIN_LINE.index(new)
            if status is T.exception:
                # Recovery may resume at an earlier step (back in transit after a failed delivery).
                assert new in (T.in_transit, T.out_for_delivery, T.delivered)
            else:
                assert rank >= furthest
            furthest = rank
        status = new


# --- order status from shipments ----------------------------------------------------------------

ORDERED = {"l1": 2, "l2": 1}


def test_order_status_from_shipments():
    first = ShipmentState({"l1": 2}, "delivered")
    assert order_status_from_shipments(ORDERED, [first]) is OrderStatus.partially_shipped
    second = ShipmentState({"l2": 1}, "in_transit")
    assert order_status_from_shipments(ORDERED, [first, second]) is OrderStatus.shipped
    assert order_status_from_shipments(ORDERED, [first, ShipmentState({"l2": 1}, "delivered")]) is (
        OrderStatus.delivered
    )
    assert order_status_from_shipments(ORDERED, [ShipmentState({"l1": 2, "l2": 1})]) is OrderStatus.shipped
    with pytest.raises(Invalid) as err:
        order_status_from_shipments(ORDERED, [first, ShipmentState({"l1": 1})])
    assert err.value.code == "over_shipment"


def test_order_status_after_tracking():
    all_delivered = [ShipmentState({"l1": 2}, "delivered"), ShipmentState({"l2": 1}, "delivered")]
    one_delivered = [ShipmentState({"l1": 2}, "delivered"), ShipmentState({"l2": 1}, "exception")]
    partial = [ShipmentState({"l1": 2}, "delivered")]
    assert order_status_after_tracking("shipped", ORDERED, all_delivered) is OrderStatus.delivered
    assert order_status_after_tracking("shipped", ORDERED, one_delivered) is None
    assert order_status_after_tracking("partially_shipped", ORDERED, partial) is None
    # Never backwards: a late duplicate for a delivered or completed order changes nothing.
    assert order_status_after_tracking("delivered", ORDERED, all_delivered) is None
    assert order_status_after_tracking("completed", ORDERED, all_delivered) is None
    for status in ["pending_payment", "paid", "cancelled", "expired"]:
        with pytest.raises(IllegalTransition) as err:
            order_status_after_tracking(status, ORDERED, all_delivered)
        assert err.value.code == "illegal_order_state"
    # The order machine has the last word: picking cannot jump to delivered.
    with pytest.raises(IllegalTransition) as err:
        order_status_after_tracking("picking", ORDERED, all_delivered)
    assert err.value.code == "illegal_transition"


@given(
    shipped_l1=st.integers(0, 2),
    shipped_l2=st.integers(0, 1),
    statuses=st.lists(st.sampled_from(list(TrackingStatus)), min_size=2, max_size=2),
)
def test_property_results_are_reachable_in_the_order_machine(shipped_l1, shipped_l2, statuses):
    shipments = [
        ShipmentState({"l1": shipped_l1}, statuses[0]),
        ShipmentState({"l2": shipped_l2}, statuses[1]),
    ]
    if shipped_l1 + shipped_l2 == 0:
        with pytest.raises(Invalid):
            order_status_from_shipments(ORDERED, shipments)
        return
    target = order_status_from_shipments(ORDERED, shipments)
    assert target in (OrderStatus.partially_shipped, OrderStatus.shipped, OrderStatus.delivered)
    # Some status that dispatch can leave the order in leads there in one legal step (or is it).
    sources = {OrderStatus.partially_shipped, OrderStatus.shipped}
    assert any(target == s or target in TRANSITIONS[s] for s in sources)
