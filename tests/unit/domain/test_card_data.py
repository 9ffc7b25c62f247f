import string
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transactional.domain.card_data import (
    Span,
    contains_card_number,
    find_card_numbers,
    is_cvv_field,
    luhn_valid,
    mask_last4,
    redact_card_numbers,
    reject_card_data,
    safe_field_name,
    validate_e164,
    validate_entity_id,
    validate_last4,
    validate_tracking_number,
)
from transactional.domain.errors import Invalid

TEST_PANS = [
    "4111111111111111",  # Visa
    "4242424242424242",  # Visa
    "5555555555554444",  # Mastercard
    "2223003122003222",  # Mastercard 2-series
    "378282246310005",  # Amex, 15 digits
    "6011111111111117",  # Discover
    "3530111333300000",  # JCB
    "30569309025904",  # Diners, 14 digits
    "6250941006528599",  # UnionPay
    "4222222222222",  # Visa, 13 digits
    "6212345678901265",  # UnionPay 16
    "6759649826438453",  # Maestro
]


def with_check_digit(payload: str) -> str:
    """``payload`` with the Luhn check digit appended."""
    total = 0
    for offset, ch in enumerate(reversed(payload)):
        d = int(ch)
        if offset % 2 == 0:  # doubled once the check digit is appended
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return payload + str((10 - total % 10) % 10)


def all_text(err: pytest.ExceptionInfo[Invalid]) -> str:
    return f"{err.value} {err.value.detail} {err.value.extra!r} {err.value!r}"


@st.composite
def pans(draw: st.DrawFn) -> str:
    length = draw(st.integers(13, 19))
    payload = "".join(
        draw(st.lists(st.sampled_from(string.digits), min_size=length - 1, max_size=length - 1))
    )
    return with_check_digit(payload)


@st.composite
def separated(draw: st.DrawFn, digits: str) -> str:
    seps = draw(
        st.lists(st.sampled_from(["", "", " ", "-"]), min_size=len(digits) - 1, max_size=len(digits) - 1)
    )
    return digits[0] + "".join(sep + d for sep, d in zip(seps, digits[1:], strict=True))


# --- detection ---------------------------------------------------------------------------------


def test_luhn():
    for pan in TEST_PANS:
        assert luhn_valid(pan), pan
    assert not luhn_valid("4111111111111112")
    assert not luhn_valid("")
    assert luhn_valid(with_check_digit("123456789012"))


@pytest.mark.parametrize("pan", TEST_PANS)
def test_test_cards_found_plain_spaced_dashed(pan):
    spaced = " ".join(pan[i : i + 4] for i in range(0, len(pan), 4))
    dashed = spaced.replace(" ", "-")
    for text in (pan, f"card {spaced} thanks", f"no:{dashed}.", f"x{pan}y"):
        spans = find_card_numbers(text)
        assert spans, text
        assert contains_card_number(text)


def test_span_covers_first_to_last_digit():
    text = "my card is 4111 1111 1111 1111, ok"
    assert find_card_numbers(text) == [Span(11, 30)]
    assert text[11:30] == "4111 1111 1111 1111"


def test_pan_embedded_in_longer_run_is_found():
    assert find_card_numbers("000000" + "4111111111111111" + "999")
    # Inside a 40-digit number, and joined to other digits by separators.
    assert contains_card_number("1234567" + "4242424242424242" + "98765432109876543")
    assert contains_card_number("12-34 4111-1111-1111-1111 5")


def test_separator_rules():
    # Two spaces, dots, slashes and newlines end a run: 4-digit groups then stand alone.
    for text in (
        "4111  1111  1111  1111",
        "4111.1111.1111.1111",
        "4111/1111/1111/1111",
        "4111\n1111\n1111\n1111",
    ):
        assert not contains_card_number(text), text
    # Other space- and dash-like characters join digits, as a pasted card number would.
    for sep in ("\u00a0", "\u2009", "\u202f", "\t", "\u2013", "\u2010"):
        assert contains_card_number(sep.join(["4111", "1111", "1111", "1111"])), repr(sep)


def test_unicode_digits_count():
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in "4111111111111111")
    assert find_card_numbers(f"card {fullwidth}") == [Span(5, 21)]


def test_too_short_and_luhn_invalid_runs_are_not_flagged():
    assert not contains_card_number("411111111111")  # 12 digits
    assert not contains_card_number("4222222222223")  # 13 digits, one window, fails Luhn
    # Longer runs have more windows: the last 13 digits of this one pass.
    assert contains_card_number("4111111111111112")
    assert find_card_numbers("") == []
    assert find_card_numbers("Flat 12, 1600 Amphitheatre Pkwy, Mountain View CA 94043") == []


def test_overlapping_hits_merge_and_separate_hits_stay_apart():
    text = "4111111111111111 and 5555555555554444"
    assert find_card_numbers(text) == [Span(0, 16), Span(21, 37)]
    # Several Luhn-valid windows of one long run become one span.
    run = "4111111111111111" + "4111111111111111"
    spans = find_card_numbers(run)
    assert len(spans) == 1 and spans[0].start == 0 and spans[0].end == 32


@given(pan=pans(), data=st.data(), before=st.text(max_size=20), after=st.text(max_size=20))
def test_property_any_separated_pan_in_any_text_is_found(pan, data, before, after):
    written = data.draw(separated(pan))
    text = before + written + after
    start, end = len(before), len(before) + len(written)
    spans = find_card_numbers(text)
    assert any(s.start <= start and s.end >= end for s in spans)
    assert contains_card_number(text)


@given(
    digits=st.text(alphabet=string.digits, min_size=13, max_size=13),
    before=st.text(alphabet=string.ascii_letters + ".,/", max_size=8),
    after=st.text(alphabet=string.ascii_letters + ".,/", max_size=8),
)
def test_property_an_isolated_13_digit_run_is_flagged_iff_luhn_valid(digits, before, after):
    assert contains_card_number(before + digits + after) == luhn_valid(digits)


@given(pan=pans(), data=st.data(), before=st.text(max_size=10), after=st.text(max_size=10))
def test_property_redaction_leaves_no_card_number_and_keeps_last4(pan, data, before, after):
    text = before + data.draw(separated(pan)) + after
    redacted = redact_card_numbers(text)
    assert len(redacted) == len(text)
    assert not contains_card_number(redacted)
    assert pan not in redacted.replace(" ", "").replace("-", "")


def test_redact_example():
    assert redact_card_numbers("card 4111 1111 1111 1111 ok") == "card **** **** **** 1111 ok"
    assert redact_card_numbers("nothing here 123") == "nothing here 123"


# --- what is never scanned, and why ------------------------------------------------------------

offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))


@given(
    moment=st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=offsets),
    sep=st.sampled_from(["T", " "]),
    timespec=st.sampled_from(["auto", "seconds", "milliseconds", "microseconds"]),
    zulu=st.booleans(),
)
def test_property_iso_timestamps_are_never_flagged_even_as_free_text(moment, sep, timespec, zulu):
    stamp = moment.isoformat(sep=sep, timespec=timespec)
    if zulu:
        stamp = moment.astimezone(UTC).isoformat(sep=sep, timespec=timespec).replace("+00:00", "Z")
    assert find_card_numbers(f"delivered {stamp} at the door") == []
    assert find_card_numbers(stamp) == []


@st.composite
def short_e164(draw: st.DrawFn) -> str:
    digits = draw(st.text(alphabet=string.digits, min_size=1, max_size=11))
    return "+" + draw(st.sampled_from("123456789")) + digits


@given(phone=short_e164(), data=st.data())
def test_property_phones_up_to_12_digits_are_never_flagged_even_as_free_text(phone, data):
    assert validate_e164(phone) == phone
    grouped = data.draw(separated(phone[1:]))
    assert not contains_card_number(f"call me on +{grouped} after six")


def test_long_e164_numbers_can_look_like_cards_so_phones_live_in_their_own_field():
    phone = "+" + with_check_digit("491511234567")  # 13 digits, a valid E.164 number
    assert validate_e164(phone) == phone
    assert contains_card_number(phone)


def test_uuids_and_ids_can_hold_luhn_runs_so_they_are_format_checked_not_scanned():
    # Both are valid in their own formats and would trip the scan as free text.
    crafted_uuid = str(uuid.UUID("41111111-1111-4111-8111-111111111111"))
    assert contains_card_number(crafted_uuid)
    crafted_id = "ord_" + "0000" + "4111111111111111" + "0000"
    assert validate_entity_id(crafted_id, prefix="ord") == crafted_id
    assert contains_card_number(crafted_id)


@given(
    hex24=st.text(alphabet="0123456789abcdef", min_size=24, max_size=24),
    prefix=st.sampled_from(["ord", "cus", "sku", "po"]),
)
def test_property_any_id_passes_its_own_format(hex24, prefix):
    value = f"{prefix}_{hex24}"
    assert validate_entity_id(value) == value
    assert validate_entity_id(value, prefix=prefix) == value


def test_entity_id_format_errors():
    for bad in [
        "ord_0000018f3a2b4c5d6e7f8a9",
        "ORD_0000018f3a2b4c5d6e7f8a9b",
        "ord-0000018f3a2b4c5d6e7f8a9b",
        7,
        "",
    ]:
        with pytest.raises(Invalid) as err:
            validate_entity_id(bad)
        assert err.value.code == "invalid_id"
    with pytest.raises(Invalid):
        validate_entity_id("ord_0000018f3a2b4c5d6e7f8a9b", prefix="cus")


# --- rejecting -----------------------------------------------------------------------------------


def test_reject_names_the_field_and_never_echoes_the_value():
    pan = "4111-1111-1111-1111"
    with pytest.raises(Invalid) as err:
        reject_card_data({"notes": f"pay with {pan}", "ship_name": "Ann Lee"}, field_kind="free_text")
    assert err.value.code == "card_data_rejected"
    assert err.value.kind == "invalid"
    assert err.value.extra == {"field": "notes", "fields": ["notes"], "field_kind": "free_text"}
    text = all_text(err)
    assert pan not in text and "4111" not in text and "1111" not in text


def test_reject_lists_every_offending_field():
    with pytest.raises(Invalid) as err:
        reject_card_data(
            {"line1": "4242424242424242", "line2": None, "name": "", "note": "5555 5555 5555 4444"},
            field_kind="card",
        )
    assert err.value.extra["fields"] == ["line1", "note"]
    assert err.value.extra["field_kind"] == "card"


def test_reject_passes_clean_fields():
    reject_card_data(
        {"notes": "leave at door, code 1234", "name": "José Ñúñez", "reason": None, "line1": ""},
        field_kind="free_text",
    )
    reject_card_data({}, field_kind="card")


def test_cvv_fields_are_always_rejected_even_empty():
    for value in ["123", "", None]:
        with pytest.raises(Invalid) as err:
            reject_card_data({"card_cvv": value, "notes": "hi"}, field_kind="card")
        assert err.value.code == "cvv_not_accepted"
        assert err.value.extra["fields"] == ["card_cvv"]
        assert "123" not in all_text(err)


def test_cvv_is_reported_before_card_numbers():
    with pytest.raises(Invalid) as err:
        reject_card_data({"number": "4111111111111111", "cvc": "737"}, field_kind="card")
    assert err.value.code == "cvv_not_accepted"


def test_field_names_holding_card_numbers_are_redacted():
    with pytest.raises(Invalid) as err:
        reject_card_data({"4111111111111111": "4111111111111111"}, field_kind="free_text")
    assert err.value.extra["fields"] == ["<redacted>"]
    assert "4111" not in all_text(err)
    assert safe_field_name("shipping_address.line1") == "shipping_address.line1"
    assert safe_field_name("items[3].item_name") == "items[3].item_name"
    assert safe_field_name("a name with spaces") == "<redacted>"


def test_unknown_field_kind_is_a_programming_error():
    with pytest.raises(ValueError):
        reject_card_data({"x": "y"}, field_kind="other")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name",
    [
        "cvv",
        "CVV",
        "cvv2",
        "cvc",
        "CVC2",
        "card_cvv",
        "cardCvc",
        "security_code",
        "securityCode",
        "security-code",
        "card_security_code",
        "csc",
        "card_csc",
        "cardVerificationValue",
        "cvn",
        "cvd",
        "card.cvv",
    ],
)
def test_cvv_field_names(name):
    assert is_cvv_field(name)


@pytest.mark.parametrize(
    "name",
    ["customer_id", "description", "discount_code", "cid", "access_code", "service_code", "notes", "cvs"],
)
def test_not_cvv_field_names(name):
    assert not is_cvv_field(name)


# --- validators ---------------------------------------------------------------------------------


def test_validate_e164():
    assert validate_e164("+14155552671") == "+14155552671"
    assert validate_e164("+861012345678") == "+861012345678"
    for bad in [
        "14155552671",
        "+0155552671",
        "+1 415 555 2671",
        "+1234567890123456",
        "+1",
        "",
        None,
        "+١٢٣٤٥٦٧",
    ]:
        with pytest.raises(Invalid) as err:
            validate_e164(bad)  # type: ignore[arg-type]
        assert err.value.code == "invalid_phone"
        if bad:
            assert bad not in err.value.detail


def test_validate_tracking_number():
    assert validate_tracking_number("ups", "1z999aa10123456784") == "1Z999AA10123456784"
    assert validate_tracking_number("usps", " 9400 1000 0000 0000 0000 00 ") == "9400100000000000000000"
    assert validate_tracking_number("dhl", "12345678") == "12345678"
    for bad in ["1234567", "A" * 31, "1Z-999", "ÄBCDEFGHI", "", None]:
        with pytest.raises(Invalid) as err:
            validate_tracking_number("ups", bad)  # type: ignore[arg-type]
        assert err.value.code == "invalid_tracking_number"
        assert err.value.extra == {"carrier_code": "ups"}
    with pytest.raises(Invalid) as err:
        validate_tracking_number("UPS!", "1Z999AA10123456784")
    assert err.value.code == "invalid_carrier_code"


def test_all_digit_tracking_numbers_can_look_like_cards_so_they_are_not_scanned():
    number = with_check_digit("9400100000000000000")  # 20 digits, mod-10 checked
    assert validate_tracking_number("usps", number) == number
    assert contains_card_number(number)


@given(number=st.text(alphabet=string.ascii_uppercase + string.digits, min_size=8, max_size=30))
def test_property_tracking_format(number):
    assert validate_tracking_number("carrier_x", number) == number


@given(number=st.text(max_size=40))
def test_property_tracking_numbers_accepted_are_exactly_the_format(number):
    normalized = number.replace(" ", "").upper()
    ok = 8 <= len(normalized) <= 30 and all(c in string.ascii_uppercase + string.digits for c in normalized)
    if ok:
        assert validate_tracking_number("ups", number) == normalized
    else:
        with pytest.raises(Invalid):
            validate_tracking_number("ups", number)


def test_last4():
    assert validate_last4("4242") == "4242"
    assert mask_last4("0005") == "**** 0005"
    for bad in ["424", "42424", "42a2", "", None, "４２４２"]:
        with pytest.raises(Invalid) as err:
            mask_last4(bad)  # type: ignore[arg-type]
        assert err.value.code == "invalid_last4"
