"""Customers: registration, profile changes and addresses.

The service never sees a password: the API layer hashes it with argon2 before
queueing the command (hashing is deliberately slow and must not run in the
serial writer) and passes ``password_hash``. Views never include the hash.

A command acting for a customer (``uow.actor.customer_id`` set) may only touch
that customer; any other customer id is reported as not found, so customers
cannot probe each other's ids.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints

from transactional.domain.card_data import reject_card_data
from transactional.domain.errors import Conflict, Invalid, NotFound
from transactional.storage.state import Row
from transactional.storage.unit_of_work import UnitOfWork

_EMAIL_RE = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s.]+")
_PHONE_RE = re.compile(r"\+[1-9][0-9]{1,14}")  # E.164
_PHONE_SEPARATORS = re.compile(r"[ .()-]")
_REGION_RE = re.compile(r"[A-Za-z0-9 _-]{1,64}")
_COUNTRY_RE = re.compile(r"[A-Z]{2}")  # ISO 3166-1 alpha-2

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
RegionText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
PostalCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
Country = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=2, max_length=2)]


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterCustomer(_Command):
    """Sign-up data. The API's request body adds ``password``; only its argon2 hash reaches the service."""

    email: Email
    name: Name
    phone: Phone | None = None
    region: RegionText


class UpdateCustomer(_Command):
    """Fields left out are unchanged; ``phone: null`` removes the phone number."""

    email: Email | None = None
    name: Name | None = None
    phone: Phone | None = None
    region: RegionText | None = None


class AddAddress(_Command):
    name: Name
    line1: Line
    line2: Line | None = None
    city: Line
    region: RegionText
    postal_code: PostalCode | None = None
    country: Country
    phone: Phone | None = None
    is_default: bool = False


# -- validation ---------------------------------------------------------------------
def normalize_email(email: str) -> str:
    normalized = email.strip().lower()
    if len(normalized) > 254 or not _EMAIL_RE.fullmatch(normalized):
        # The value is not repeated back: a mistyped field may hold anything, card data included.
        raise Invalid("invalid email address", code="invalid_email", field="email")
    return normalized


def check_phone(phone: str | None) -> str | None:
    """The number in E.164 form (``+14155550123``); spaces, dots, dashes and brackets are dropped."""
    if phone is None:
        return None
    normalized = _PHONE_SEPARATORS.sub("", phone)
    if not _PHONE_RE.fullmatch(normalized):
        raise Invalid(
            "invalid phone number: use E.164, e.g. +14155550123", code="invalid_phone", field="phone"
        )
    return normalized


def check_region(region: str) -> str:
    reject_card_data({"region": region}, field_kind="free_text")
    if not _REGION_RE.fullmatch(region):
        raise Invalid(
            "invalid region: 1 to 64 letters, digits, spaces, '_' or '-'",
            code="invalid_region",
            field="region",
        )
    return region


def _check_country(country: str) -> str:
    if not _COUNTRY_RE.fullmatch(country):
        raise Invalid(f"invalid country {country!r}: use an ISO 3166-1 alpha-2 code", code="invalid_country")
    return country


def _check_email_free(uow: UnitOfWork, email: str, customer_id: str | None) -> None:
    if any(r["customer_id"] != customer_id for r in uow.lookup("customers", "email", email)):
        raise Conflict(f"a customer with email {email} already exists", code="email_taken")


def require_customer(uow: UnitOfWork, customer_id: str) -> Row:
    """The customer row, if it exists and the actor may see it; else NotFound ``customer_not_found``."""
    acting_for = uow.actor.customer_id
    # Another customer's id is answered exactly as an unknown one.
    row = uow.get("customers", customer_id) if acting_for in (None, customer_id) else None
    if row is None:
        raise NotFound(f"customer {customer_id} does not exist", code="customer_not_found")
    return row


# -- views --------------------------------------------------------------------------
def address_view(row: Row) -> dict[str, Any]:
    return dict(row)


def customer_view(uow: UnitOfWork, row: Row) -> dict[str, Any]:
    view = {k: v for k, v in row.items() if k != "password_hash"}
    view["has_password"] = row["password_hash"] is not None
    addresses = sorted(
        uow.lookup("customer_addresses", "customer_id", row["customer_id"]), key=lambda a: a["address_id"]
    )
    view["addresses"] = [address_view(a) for a in addresses]
    return view


# -- services -----------------------------------------------------------------------
def register_customer(
    uow: UnitOfWork, cmd: RegisterCustomer, *, password_hash: str | None = None
) -> dict[str, Any]:
    """Create a customer; ``password_hash`` is the argon2 hash made by the API layer (None: no sign-in)."""
    reject_card_data({"name": cmd.name}, field_kind="free_text")
    email = normalize_email(cmd.email)
    phone = check_phone(cmd.phone)
    region = check_region(cmd.region)
    if password_hash is not None and not password_hash.startswith("$argon2"):
        # Guards against a caller passing the password itself.
        raise Invalid("password_hash must be an argon2 hash", code="invalid_password_hash")
    _check_email_free(uow, email, None)
    customer_id = uow.new_id("cus")
    row = uow.insert(
        "customers",
        {
            "customer_id": customer_id,
            "email": email,
            "name": cmd.name,
            "phone": phone,
            "region": region,
            "password_hash": password_hash,
            "created_at": uow.now,
            "updated_at": uow.now,
        },
    )
    uow.audit("customer.register", "customer", customer_id)
    return customer_view(uow, row)


def update_customer(uow: UnitOfWork, customer_id: str, cmd: UpdateCustomer) -> dict[str, Any]:
    row = require_customer(uow, customer_id)
    reject_card_data({"name": cmd.name}, field_kind="free_text")
    changes: dict[str, Any] = {}
    if cmd.email is not None:
        changes["email"] = normalize_email(cmd.email)
    if cmd.name is not None:
        changes["name"] = cmd.name
    if "phone" in cmd.model_fields_set:
        changes["phone"] = check_phone(cmd.phone)
    if cmd.region is not None:
        changes["region"] = check_region(cmd.region)
    changes = {k: v for k, v in changes.items() if row[k] != v}
    if "email" in changes:
        _check_email_free(uow, changes["email"], customer_id)
    if not changes:
        return customer_view(uow, row)
    updated = uow.update("customers", customer_id, **changes, updated_at=uow.now)
    uow.audit("customer.update", "customer", customer_id, fields=sorted(changes))
    return customer_view(uow, updated)


def add_address(uow: UnitOfWork, customer_id: str, cmd: AddAddress) -> dict[str, Any]:
    """Add an address; the first one, or one marked ``is_default``, becomes the default."""
    require_customer(uow, customer_id)
    reject_card_data(
        {
            "name": cmd.name,
            "line1": cmd.line1,
            "line2": cmd.line2,
            "city": cmd.city,
            "postal_code": cmd.postal_code,
        },
        field_kind="free_text",
    )
    region = check_region(cmd.region)
    country = _check_country(cmd.country)
    phone = check_phone(cmd.phone)
    existing = uow.lookup("customer_addresses", "customer_id", customer_id)
    is_default = cmd.is_default or not existing
    if is_default:
        for other in existing:
            if other["is_default"]:
                uow.update("customer_addresses", other["address_id"], is_default=False)
    address_id = uow.new_id("adr")
    row = uow.insert(
        "customer_addresses",
        {
            "address_id": address_id,
            "customer_id": customer_id,
            "name": cmd.name,
            "line1": cmd.line1,
            "line2": cmd.line2,
            "city": cmd.city,
            "region": region,
            "postal_code": cmd.postal_code,
            "country": country,
            "phone": phone,
            "is_default": is_default,
            "created_at": uow.now,
        },
    )
    uow.audit("customer.add_address", "customer", customer_id, address_id=address_id)
    return address_view(row)
