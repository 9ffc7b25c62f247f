"""Card data (PAY-2): find card numbers in text, refuse them, and check the formats that are not scanned.

The store never accepts a raw card number (PAN), a card security code or
track data: a card arrives only as a provider token with its brand and last 4.
Rules (copied into DECISIONLOG.md):

- A *run* is a maximal sequence of decimal digits in which consecutive digits
  may be separated by one space-like character (space, tab, no-break or thin
  space) or one dash-like character (hyphen-minus, hyphen, figure or en dash).
  "4111 1111 1111 1111" and "4111-1111-1111-1111" are one run each; two
  spaces, a dot, a slash or a letter end a run. Unicode decimal digits count
  (a PAN typed in full-width digits is still a PAN).
- Every window of 13 to 19 consecutive digits of a run is tested, not only the
  run as a whole, so a PAN embedded in a longer digit string is found. A
  window that passes the Luhn check is a card number. Track data is caught by
  the same rule, since both tracks carry the PAN as a digit run.
- Card fields and free-text fields (notes, names, address lines, reasons,
  UTM values, item names) are scanned; any card number rejects the whole
  request with ``card_data_rejected``, naming the field and never echoing the
  value. A field whose *name* looks like a security code (cvv, cvc, cvv2,
  security_code, ...) is rejected whatever its value (``cvv_not_accepted``).
- Any 13+-digit run fails Luhn by chance only nine times in ten, so fields
  that legitimately hold long digit strings are never scanned; each is checked
  by its own format instead: phone numbers are E.164 (up to 15 digits, so a
  13-15-digit number would trip the scan one time in ten), timestamps are ISO
  8601 (its separators keep every digit run at 10 or fewer, so these could be
  scanned safely), our ids are ``prefix_`` + 24 hex characters and UUIDs are
  hex in 8-4-4-4-12 groups (both hold long digit runs by chance, the UUID
  groups even joined by dashes: about 1 in 120 random uuid4 strings or ids
  would trip the scan, measured), tracking numbers are 8-30 uppercase
  alphanumerics (many carriers issue long all-digit numbers with a mod-10
  check digit of their own). Identifiers that machines generate (session and
  anonymous ids, item ids) are likewise format-checked, not scanned: the rule
  targets what people type.
- Precision is therefore a property of where the scan is applied, not of a
  looser rule: free text with a 13-19-digit number in it (an ISBN-13, a
  barcode, a long reference) is refused about one time in ten, and the
  customer is asked to leave it out. A false refusal costs a retyped note; a
  stored PAN costs a breach.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal, NamedTuple

from transactional.domain.errors import Invalid

MIN_PAN_DIGITS = 13
MAX_PAN_DIGITS = 19

FieldKind = Literal["card", "free_text"]
FIELD_KINDS: frozenset[str] = frozenset({"card", "free_text"})

# One optional separator between digits. Newlines are deliberately not in the
# set: a list of short numbers one per line is common in notes, a PAN broken
# over lines is not.
_SEP = "[-\u2010-\u2013 \t\u00a0\u2007\u2009\u202f]"
# A digit run long enough to hold a PAN. Greedy, so each match is a whole run
# (a run too short to match is skipped digit by digit at C speed): this is the
# fast path that keeps scanning cheap for the usual text without long numbers.
_CANDIDATE_RUN = re.compile(rf"\d(?:{_SEP}?\d){{{MIN_PAN_DIGITS - 1},}}")
_DIGIT = re.compile(r"\d")

# Normalized (lower-case, alphanumerics only) field names that hold a card
# security code. Substrings, so "card_cvv", "cvvNumber" and "cvc2" all match;
# no common English word contains "cvv" or "cvc".
_CVV_SUBSTRINGS = ("cvv", "cvc", "securitycode", "cardverification", "cardcode")
# Abbreviations that are too short to match as substrings ("cid" would hit
# "customer_cid"-like names, so it is not here at all).
_CVV_TOKENS = frozenset({"csc", "cvn", "cvn2", "cvd", "cav2"})
_TOKEN_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")
# Every name matched above contains one of these; most names contain none, and
# this one search is all they cost (event ingestion checks every key).
_CVV_HINT = re.compile(r"cv|cs|cav|secur|verif|code", re.IGNORECASE)

_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_TRACKING = re.compile(r"[A-Z0-9]{8,30}")
_CARRIER_CODE = re.compile(r"[a-z][a-z0-9_]{1,31}")
_ENTITY_ID = re.compile(r"([a-z]{2,4})_[0-9a-f]{24}")
_LAST4 = re.compile(r"[0-9]{4}")
# A field name safe to repeat in an error: short and identifier-like.
_SAFE_NAME = re.compile(r"[A-Za-z0-9_.\[\]-]{1,80}")

# Luhn doubling of one digit, with the digits of the product summed.
_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


class Span(NamedTuple):
    """A half-open range ``text[start:end]`` from the first to the last digit of a hit."""

    start: int
    end: int


def luhn_valid(digits: str) -> bool:
    """True if the decimal digits in ``digits`` pass the Luhn (mod 10) check."""
    values = [int(ch) for ch in digits]
    if not values:
        return False
    total = 0
    for offset, value in enumerate(reversed(values)):
        total += _DOUBLED[value] if offset % 2 else value
    return total % 10 == 0


def _luhn_windows(values: list[int]) -> list[tuple[int, int]]:
    """Every ``[i, j)`` of ``values`` with 13-19 digits that passes Luhn.

    Prefix sums split by index parity make each window O(1): in a window ending
    at ``j`` the check digit ``j-1`` and every second digit before it are
    taken as they are, the others doubled.
    """
    n = len(values)
    plain = [[0] * (n + 1), [0] * (n + 1)]
    doubled = [[0] * (n + 1), [0] * (n + 1)]
    for k, value in enumerate(values):
        for parity in (0, 1):
            plain[parity][k + 1] = plain[parity][k]
            doubled[parity][k + 1] = doubled[parity][k]
        plain[k % 2][k + 1] += value
        doubled[k % 2][k + 1] += _DOUBLED[value]
    hits = []
    for j in range(MIN_PAN_DIGITS, n + 1):
        same = (j - 1) % 2
        other = 1 - same
        for length in range(MIN_PAN_DIGITS, min(MAX_PAN_DIGITS, j) + 1):
            i = j - length
            total = plain[same][j] - plain[same][i] + doubled[other][j] - doubled[other][i]
            if total % 10 == 0:
                hits.append((i, j))
    return hits


def _scan(text: str, *, first_only: bool) -> list[Span]:
    hits: list[Span] = []
    for run in _CANDIDATE_RUN.finditer(text):
        base = run.start()
        positions = [base + m.start() for m in _DIGIT.finditer(run.group())]
        values = [int(text[p]) for p in positions]
        for i, j in _luhn_windows(values):
            hits.append(Span(positions[i], positions[j - 1] + 1))
            if first_only:
                return hits
    hits.sort()
    merged: list[Span] = []
    for span in hits:
        if merged and span.start <= merged[-1].end:
            merged[-1] = Span(merged[-1].start, max(merged[-1].end, span.end))
        else:
            merged.append(span)
    return merged


def find_card_numbers(text: str) -> list[Span]:
    """Where ``text`` holds a card number: sorted, disjoint spans.

    Overlapping or touching hits (several Luhn-valid windows of one run) are
    merged into one span covering them all.
    """
    return _scan(text, first_only=False)


def contains_card_number(text: str) -> bool:
    """True if ``text`` holds a card number; stops at the first hit."""
    return bool(_scan(text, first_only=True))


def redact_card_numbers(text: str) -> str:
    """``text`` with every digit of each hit but its last four replaced by ``*``.

    For defence in depth in log formatters: what a scan would refuse never
    reaches a log line whole, even if it slipped past the API checks.
    """
    spans = find_card_numbers(text)
    if not spans:
        return text
    chars = list(text)
    for start, end in spans:
        digit_positions = [m.start() for m in _DIGIT.finditer(text, start, end)]
        for p in digit_positions[:-4]:
            chars[p] = "*"
    return "".join(chars)


def is_cvv_field(name: str) -> bool:
    """True if a field named ``name`` would hold a card security code (cvv, cvc, security_code, ...)."""
    if not isinstance(name, str) or not _CVV_HINT.search(name):
        return False
    normalized = re.sub(r"[^a-z0-9]", "", name.lower())
    if any(s in normalized for s in _CVV_SUBSTRINGS):
        return True
    tokens = {t.lower() for t in _TOKEN_SPLIT.split(name) if t}
    return not tokens.isdisjoint(_CVV_TOKENS)


def safe_field_name(name: str) -> str:
    """``name`` if it may be repeated in an error, else ``<redacted>``.

    Field names usually come from our own schema, but a client can send any
    key; one that holds a card number (or is too odd to be a name) must not be
    echoed either.
    """
    if isinstance(name, str) and _SAFE_NAME.fullmatch(name) and not contains_card_number(name):
        return name
    return "<redacted>"


def reject_card_data(fields: Mapping[str, str | None], *, field_kind: FieldKind) -> None:
    """Raise if any field is a security-code field or holds a card number; else return None.

    ``fields`` maps field names (as the client knows them, e.g.
    ``shipping_address.line1``) to values; None and empty values are skipped,
    except that a security-code field is refused even when empty, since a
    client that sends one at all is collecting it. Every offending field is
    named in ``fields`` of the error, none of the values is.
    """
    if field_kind not in FIELD_KINDS:
        raise ValueError(f"field_kind must be one of {sorted(FIELD_KINDS)}, got {field_kind!r}")
    kind_label = "card" if field_kind == "card" else "free-text"
    cvv = [safe_field_name(name) for name in fields if is_cvv_field(name)]
    if cvv:
        raise Invalid(
            f"card security codes are never accepted: remove {', '.join(cvv)}",
            code="cvv_not_accepted",
            field=cvv[0],
            fields=cvv,
            field_kind=field_kind,
        )
    offending = [
        safe_field_name(name)
        for name, value in fields.items()
        if isinstance(value, str) and value and contains_card_number(value)
    ]
    if offending:
        raise Invalid(
            f"{kind_label} field {', '.join(offending)} looks like it holds a card number; "
            "send a card only as a provider token with brand and last 4",
            code="card_data_rejected",
            field=offending[0],
            fields=offending,
            field_kind=field_kind,
        )


def validate_e164(phone: str) -> str:
    """``phone`` if it is an E.164 number (``+``, country code, at most 15 digits, no spaces)."""
    if isinstance(phone, str) and _E164.fullmatch(phone):
        return phone
    # The value is not echoed: a mistyped "phone" can be anything, a PAN included.
    raise Invalid(
        "phone must be E.164: '+' then 2 to 15 digits, no spaces, e.g. +442079460958",
        code="invalid_phone",
    )


def validate_tracking_number(carrier_code: str, number: str) -> str:
    """The normalized tracking number: 8-30 uppercase letters and digits.

    One generic format for every carrier (UPS "1Z..." 18, FedEx 12-22 digits,
    USPS 20-22 digits, DHL 10, SF Express 12-15 all fit), so a new carrier needs
    no code. Surrounding whitespace and inner spaces (as printed on labels) are
    dropped and letters upper-cased before the check.
    """
    if not (isinstance(carrier_code, str) and _CARRIER_CODE.fullmatch(carrier_code)):
        raise Invalid(
            "carrier code must be 2 to 32 lower-case letters, digits or '_'", code="invalid_carrier_code"
        )
    normalized = number.replace(" ", "").upper() if isinstance(number, str) else ""
    if not _TRACKING.fullmatch(normalized):
        raise Invalid(
            f"tracking number for carrier {carrier_code} must be 8 to 30 letters A-Z or digits",
            code="invalid_tracking_number",
            carrier_code=carrier_code,
        )
    return normalized


def validate_entity_id(value: str, *, prefix: str | None = None) -> str:
    """``value`` if it is one of our ids (``ord_`` + 24 hex digits), with ``prefix`` if given."""
    match = _ENTITY_ID.fullmatch(value) if isinstance(value, str) else None
    if match is None or (prefix is not None and match.group(1) != prefix):
        expected = f"{prefix}_" if prefix else "a prefix_"
        raise Invalid(f"invalid id: expected {expected} followed by 24 hex digits", code="invalid_id")
    return value


def validate_last4(last4: str) -> str:
    """``last4`` if it is exactly four ASCII digits."""
    if isinstance(last4, str) and _LAST4.fullmatch(last4):
        return last4
    raise Invalid("card last4 must be exactly 4 digits", code="invalid_last4")


def mask_last4(last4: str) -> str:
    """The display form of a stored card, ``**** 4242``, from its last 4 digits."""
    return f"**** {validate_last4(last4)}"
