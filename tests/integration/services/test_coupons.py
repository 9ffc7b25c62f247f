from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from tests.integration.conftest import open_writer
from tests.integration.services import assert_rejected, run, scalar
from transactional.domain.pricing import Discount
from transactional.services import coupons as svc
from transactional.storage.reads import catalogue as reads


def _create(writer, **fields):
    cmd = svc.CreateCoupon(**fields)
    return run(writer, lambda uow: svc.create_coupon(uow, cmd))


def _for_order(writer, code, subtotal):
    return run(writer, lambda uow: svc.coupon_for_order(uow, code, subtotal))


def test_create_percent_and_fixed_coupons(writer, clock):
    spring = _create(writer, code="  spring-15 ", kind="percent", percent_off="0.15", usage_limit=2)
    assert spring["code"] == "SPRING-15" and spring["percent_off"] == Decimal("0.15")
    assert spring["valid_from"] == clock.now() and spring["times_used"] == 0 and spring["is_active"]
    tenoff = _create(writer, code="TENOFF", kind="fixed", amount_off_minor=1000, min_subtotal_minor=5000)
    row = writer.con.execute(
        "select kind, percent_off, amount_off_minor, min_subtotal_minor from coupons where coupon_id = ?",
        [tenoff["coupon_id"]],
    ).fetchone()
    assert row == ("fixed", None, 1000, 5000)
    assert scalar(writer, "select percent_off from coupons where code = 'SPRING-15'") == Decimal("0.1500")
    assert scalar(writer, "select count(*) from audit_log where action = 'coupon.create'") == 2

    row, discount = _for_order(writer, "spring-15", 4000)
    assert row["coupon_id"] == spring["coupon_id"]
    assert discount == Discount("percent", Decimal("0.15"), "coupon:SPRING-15")
    assert _for_order(writer, "TENOFF", 5000)[1] == Discount("fixed", 1000, "coupon:TENOFF")


def test_create_coupon_rules(writer, clock):
    _create(writer, code="SAVE10", kind="percent", percent_off="0.1")
    cases = [
        ({"code": "save10", "kind": "fixed", "amount_off_minor": 5}, "coupon_code_taken"),
        ({"code": "no", "kind": "fixed", "amount_off_minor": 5}, "invalid_coupon_code"),
        ({"code": "BAD CODE", "kind": "fixed", "amount_off_minor": 5}, "invalid_coupon_code"),
        ({"code": "PCT", "kind": "percent"}, "invalid_discount"),
        ({"code": "PCT", "kind": "percent", "percent_off": "0.1", "amount_off_minor": 5}, "invalid_discount"),
        ({"code": "FIX", "kind": "fixed"}, "invalid_discount"),
        ({"code": "FIX", "kind": "fixed", "amount_off_minor": 5, "percent_off": "0.1"}, "invalid_discount"),
        (
            {"code": "WIN", "kind": "fixed", "amount_off_minor": 5, "valid_until": clock.now()},
            "invalid_validity_window",
        ),
    ]
    for fields, code in cases:
        cmd = svc.CreateCoupon(**fields)
        assert_rejected(writer, lambda uow, cmd=cmd: svc.create_coupon(uow, cmd), code)
    for bad in (
        {"code": "X1X", "kind": "percent", "percent_off": "1.5"},
        {"code": "X1X", "kind": "percent", "percent_off": "0.12345"},
        {"code": "X1X", "kind": "fixed", "amount_off_minor": 0},
        {"code": "X1X", "kind": "fixed", "amount_off_minor": 5, "usage_limit": 0},
        {"code": "X1X", "kind": "bogo"},
        {"code": "X1X", "kind": "fixed", "amount_off_minor": 5, "times_used": 3},
    ):
        with pytest.raises(ValidationError):
            svc.CreateCoupon(**bad)


def test_coupon_checks_at_checkout(writer, clock):
    start = clock.now() + timedelta(days=1)
    _create(
        writer,
        code="WEEKEND",
        kind="fixed",
        amount_off_minor=500,
        valid_from=start,
        valid_until=start + timedelta(days=2),
        min_subtotal_minor=3000,
    )
    assert_rejected(writer, lambda uow: svc.coupon_for_order(uow, "NOPE", 9999), "coupon_not_found")
    assert_rejected(writer, lambda uow: svc.coupon_for_order(uow, "weekend", 9999), "coupon_not_yet_valid")
    clock.set(start)
    assert_rejected(writer, lambda uow: svc.coupon_for_order(uow, "weekend", 2999), "coupon_minimum_not_met")
    assert _for_order(writer, "weekend", 3000)[1].value == 500
    clock.set(start + timedelta(days=2))
    assert_rejected(writer, lambda uow: svc.coupon_for_order(uow, "weekend", 9999), "coupon_expired")


def test_redeem_until_exhausted_and_deactivate(writer, clock, tmp_path):
    coupon = _create(writer, code="ONCE-TWICE", kind="percent", percent_off="0.2", usage_limit=2)
    cid = coupon["coupon_id"]
    for used in (1, 2):
        row = run(writer, lambda uow: svc.redeem_coupon(uow, cid))
        assert row["times_used"] == used
    assert scalar(writer, "select times_used from coupons where coupon_id = ?", [cid]) == 2
    assert_rejected(writer, lambda uow: svc.coupon_for_order(uow, "once-twice", 100), "coupon_exhausted")
    assert_rejected(writer, lambda uow: svc.redeem_coupon(uow, cid), "coupon_exhausted")
    assert_rejected(writer, lambda uow: svc.redeem_coupon(uow, "cpn_nope"), "coupon_not_found")

    other = _create(writer, code="LATER", kind="fixed", amount_off_minor=100)
    deactivated = run(writer, lambda uow: svc.deactivate_coupon(uow, other["coupon_id"]))
    assert deactivated["is_active"] is False
    assert run(writer, lambda uow: svc.deactivate_coupon(uow, other["coupon_id"]))["is_active"] is False
    assert scalar(writer, "select count(*) from audit_log where action = 'coupon.deactivate'") == 1
    assert_rejected(writer, lambda uow: svc.coupon_for_order(uow, "LATER", 100), "coupon_inactive")
    assert_rejected(writer, lambda uow: svc.redeem_coupon(uow, other["coupon_id"]), "coupon_inactive")

    # The hot state after reopening holds the same usage and status.
    writer.con.close()
    clock.advance(timedelta(seconds=1))  # a seeded id generator on an unmoved clock would repeat ids
    reopened = open_writer(tmp_path, clock)
    try:
        assert reopened.state.get("coupons", (cid,))["times_used"] == 2
        assert_rejected(
            reopened, lambda uow: svc.coupon_for_order(uow, "ONCE-TWICE", 100), "coupon_exhausted"
        )
        assert_rejected(reopened, lambda uow: svc.coupon_for_order(uow, "later", 100), "coupon_inactive")
        assert_rejected(
            reopened,
            lambda uow: svc.create_coupon(
                uow, svc.CreateCoupon(code="later", kind="fixed", amount_off_minor=1)
            ),
            "coupon_code_taken",
        )
    finally:
        reopened.con.close()


def test_coupon_reads(writer):
    a = _create(writer, code="AAA", kind="fixed", amount_off_minor=100)
    b = _create(writer, code="BBB", kind="percent", percent_off="0.05")
    run(writer, lambda uow: svc.deactivate_coupon(uow, b["coupon_id"]))
    cur = writer.con.cursor()
    everything = reads.list_coupons(cur)
    assert {c["code"] for c in everything["items"]} == {"AAA", "BBB"}
    assert [c["code"] for c in reads.list_coupons(cur, is_active=True)["items"]] == ["AAA"]
    assert reads.get_coupon(cur, a["coupon_id"])["amount_off_minor"] == 100
    assert reads.get_coupon_by_code(cur, "BBB")["percent_off"] == Decimal("0.0500")
    assert reads.get_coupon(cur, "cpn_nope") is None
