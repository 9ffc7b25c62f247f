from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from tests.integration.conftest import open_writer
from tests.integration.services import assert_rejected, run, scalar
from transactional.domain.access import Actor
from transactional.services import customers as svc
from transactional.storage.reads import catalogue as reads

HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"
ADDRESS = {"name": "Ada Lovelace", "line1": "1 Main St", "city": "New York", "region": "NY", "country": "us"}


def _register(writer, email="Ada@Example.COM", **fields):
    cmd = svc.RegisterCustomer(email=email, name=fields.pop("name", "Ada Lovelace"), region="NY", **fields)
    return run(writer, lambda uow: svc.register_customer(uow, cmd, password_hash=HASH))


def _add_address(writer, customer_id, actor=None, **fields):
    cmd = svc.AddAddress(**{**ADDRESS, **fields})
    if actor is None:
        return run(writer, lambda uow: svc.add_address(uow, customer_id, cmd))
    return run(writer, lambda uow: svc.add_address(uow, customer_id, cmd), actor)


def test_register_customer(writer):
    customer = _register(writer, phone="+1 (212) 555-0100")
    assert customer["email"] == "ada@example.com"
    assert customer["phone"] == "+12125550100"
    assert "password_hash" not in customer and customer["has_password"] is True
    assert customer["addresses"] == []
    row = writer.con.execute(
        "select email, region, password_hash from customers where customer_id = ?", [customer["customer_id"]]
    ).fetchone()
    assert row == ("ada@example.com", "NY", HASH)
    # The audit trail records the registration but never the hash.
    details = writer.con.execute("select action, coalesce(details_json, '') from audit_log").fetchall()
    assert ("customer.register", "") in details and all(HASH not in d for _, d in details)


def test_register_rules(writer):
    _register(writer)

    def attempt(email="new@example.com", phone=None, region="NY", password_hash=HASH):
        cmd = svc.RegisterCustomer(email=email, name="N", phone=phone, region=region)
        return lambda uow: svc.register_customer(uow, cmd, password_hash=password_hash)

    assert_rejected(writer, attempt(email=" ADA@example.com "), "email_taken", kind="conflict")
    for email in ("ada", "ada@", "@example.com", "a b@example.com", "ada@example", "ada@@example.com"):
        assert_rejected(writer, attempt(email=email), "invalid_email")
    for phone in ("12125550100", "+0123", "+1 212 555 0100 ext 5", "+1234567890123456"):
        assert_rejected(writer, attempt(phone=phone), "invalid_phone")
    for region in ("N;Y", "ÑY", "N\tY"):
        assert_rejected(writer, attempt(region=region), "invalid_region")
    assert_rejected(writer, attempt(password_hash="hunter2"), "invalid_password_hash")
    with pytest.raises(ValidationError):
        svc.RegisterCustomer(email="a@b.co", name="N", region="NY", password="hunter2")
    # Without a hash the customer exists but cannot sign in.
    guest = run(
        writer,
        lambda uow: svc.register_customer(
            uow, svc.RegisterCustomer(email="g@example.com", name="G", region="CA")
        ),
    )
    assert guest["has_password"] is False


def test_addresses_and_default(writer):
    customer = _register(writer)
    cid = customer["customer_id"]
    first = _add_address(writer, cid, phone="+44 20 7946 0958")
    assert first["is_default"] is True and first["country"] == "US" and first["phone"] == "+442079460958"
    second = _add_address(writer, cid, line1="2 Side St")
    assert second["is_default"] is False
    third = _add_address(writer, cid, line1="3 New St", is_default=True)
    defaults = writer.con.execute(
        "select address_id from customer_addresses where customer_id = ? and is_default", [cid]
    ).fetchall()
    assert defaults == [(third["address_id"],)]

    def attempt(**fields):
        cmd = svc.AddAddress(**{**ADDRESS, **fields})
        return lambda uow: svc.add_address(uow, cid, cmd)

    assert_rejected(writer, attempt(country="U1"), "invalid_country")
    assert_rejected(writer, attempt(region="N/Y"), "invalid_region")
    assert_rejected(writer, attempt(phone="555"), "invalid_phone")
    assert_rejected(
        writer, lambda uow: svc.add_address(uow, "cus_nope", svc.AddAddress(**ADDRESS)), "customer_not_found"
    )
    with pytest.raises(ValidationError):
        svc.AddAddress(**{**ADDRESS, "country": "USA"})


def test_update_profile(writer):
    ada = _register(writer, phone="+12125550100")
    _register(writer, email="grace@example.com", name="Grace")
    cid = ada["customer_id"]
    updated = run(
        writer,
        lambda uow: svc.update_customer(
            uow, cid, svc.UpdateCustomer(name="Ada King", phone=None, region="CA")
        ),
    )
    assert (updated["name"], updated["phone"], updated["region"], updated["email"]) == (
        "Ada King",
        None,
        "CA",
        "ada@example.com",
    )
    kept = run(writer, lambda uow: svc.update_customer(uow, cid, svc.UpdateCustomer(name="Ada K")))
    assert kept["region"] == "CA"
    assert_rejected(
        writer,
        lambda uow: svc.update_customer(uow, cid, svc.UpdateCustomer(email="GRACE@example.com")),
        "email_taken",
    )
    assert_rejected(
        writer, lambda uow: svc.update_customer(uow, cid, svc.UpdateCustomer(phone="abc")), "invalid_phone"
    )
    changed = run(writer, lambda uow: svc.update_customer(uow, cid, svc.UpdateCustomer(email="ada@king.org")))
    assert changed["email"] == "ada@king.org"
    # The old address is free again.
    _register(writer, email="ada@example.com", name="Another Ada")


def test_customers_are_kept_apart(writer):
    ada = _register(writer)
    grace = _register(writer, email="grace@example.com", name="Grace")
    as_ada = Actor(role="storefront", key_id="key_sf", customer_id=ada["customer_id"])
    _add_address(writer, ada["customer_id"], actor=as_ada)
    # Acting for Ada, Grace's id is answered exactly like an unknown one.
    assert_rejected(
        writer,
        lambda uow: svc.add_address(uow, grace["customer_id"], svc.AddAddress(**ADDRESS)),
        "customer_not_found",
        kind="not_found",
        actor=as_ada,
    )
    assert_rejected(
        writer,
        lambda uow: svc.update_customer(uow, grace["customer_id"], svc.UpdateCustomer(name="x")),
        "customer_not_found",
        actor=as_ada,
    )


def test_customers_survive_reopening_and_reads(writer, clock, tmp_path):
    ada = _register(writer)
    _add_address(writer, ada["customer_id"])
    _add_address(writer, ada["customer_id"], line1="9 Other St", is_default=True)
    cur = writer.con.cursor()
    found = reads.get_customer(cur, ada["customer_id"])
    assert "password_hash" not in found and found["has_password"] is True
    assert [a["line1"] for a in found["addresses"]] == ["9 Other St", "1 Main St"]  # default first
    assert reads.get_customer(cur, "cus_nope") is None
    assert reads.customer_credentials(cur, " ADA@example.com") == {
        "customer_id": ada["customer_id"],
        "password_hash": HASH,
    }
    listed = reads.list_customers(cur, email="Ada@Example.com")
    assert [c["customer_id"] for c in listed["items"]] == [ada["customer_id"]]
    assert all("password_hash" not in c for c in reads.list_customers(cur)["items"])

    writer.con.close()
    clock.advance(timedelta(seconds=1))  # a seeded id generator on an unmoved clock would repeat ids
    reopened = open_writer(tmp_path, clock)
    try:
        assert (
            reopened.state.lookup("customers", "email", "ada@example.com")[0]["customer_id"]
            == ada["customer_id"]
        )
        assert len(reopened.state.lookup("customer_addresses", "customer_id", ada["customer_id"])) == 2
        assert_rejected(
            reopened,
            lambda uow: svc.register_customer(
                uow, svc.RegisterCustomer(email="ada@example.com", name="A", region="NY")
            ),
            "email_taken",
        )
        third = run(reopened, lambda uow: svc.add_address(uow, ada["customer_id"], svc.AddAddress(**ADDRESS)))
        assert third["is_default"] is False
        assert scalar(reopened, "select count(*) from customer_addresses where is_default") == 1
    finally:
        reopened.con.close()
