from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import orjson
import pytest
from pydantic import ValidationError

from tests.integration.conftest import open_writer
from tests.integration.services import assert_rejected, make_sku, run, scalar
from transactional.domain.pricing import LineInput, ShippingRate, price_order
from transactional.services import catalogue as cat
from transactional.storage.reads import catalogue as reads


def _category(writer, name="Apparel", parent_id=None):
    return run(
        writer, lambda uow: cat.create_category(uow, cat.CreateCategory(name=name, parent_id=parent_id))
    )


def _product(writer, category_id, name="Tee", **kw):
    cmd = cat.CreateProduct(name=name, category_id=category_id, tax_class="standard", **kw)
    return run(writer, lambda uow: cat.create_product(uow, cmd))


def _sku(writer, product_id, code="TEE-M", price=2500, **kw):
    cmd = cat.CreateSku(sku_code=code, name=code, unit_cost_minor=900, price_minor=price, **kw)
    return run(writer, lambda uow: cat.create_sku(uow, product_id, cmd))


def test_create_category_product_and_sku(writer):
    apparel = _category(writer)
    tees = _category(writer, "Tees", apparel["category_id"])
    product = _product(
        writer,
        tees["category_id"],
        description="Organic cotton",
        attributes={"material": "cotton", "gsm": 180},
    )
    assert product["status"] == "active" and product["skus"] == []
    assert product["attributes"] == {"material": "cotton", "gsm": 180}
    sku = _sku(writer, product["product_id"], attributes={"size": "M"}, compare_at_minor=3000)
    assert sku["price_minor"] == 2500 and sku["compare_at_minor"] == 3000 and sku["status"] == "active"

    row = writer.con.execute(
        "select category_id, tax_class, attributes_json, status from products where product_id = ?",
        [product["product_id"]],
    ).fetchone()
    assert row[:2] == (tees["category_id"], "standard") and row[3] == "active"
    assert orjson.loads(row[2]) == {"gsm": 180, "material": "cotton"}
    prices = writer.con.execute(
        "select price_minor, compare_at_minor, reason, created_by from sku_prices where sku_id = ?",
        [sku["sku_id"]],
    ).fetchall()
    assert prices == [(2500, 3000, "initial price", "key_test_admin")]
    actions = {r[0] for r in writer.con.execute("select action from audit_log").fetchall()}
    assert {"category.create", "product.create", "sku.create"} <= actions


def test_category_rules(writer):
    apparel = _category(writer)
    tees = _category(writer, "Tees", apparel["category_id"])
    assert_rejected(
        writer,
        lambda uow: cat.create_category(uow, cat.CreateCategory(name="X", parent_id="cat_nope")),
        "category_not_found",
    )
    assert_rejected(
        writer,
        lambda uow: cat.create_category(
            uow, cat.CreateCategory(name="tees", parent_id=apparel["category_id"])
        ),
        "category_name_taken",
    )
    # Moving a category under its own descendant would make a cycle.
    assert_rejected(
        writer,
        lambda uow: cat.update_category(
            uow, apparel["category_id"], cat.UpdateCategory(parent_id=tees["category_id"])
        ),
        "category_cycle",
    )
    # A category with subcategories, or with active products, cannot be archived.
    assert_rejected(
        writer, lambda uow: cat.archive_category(uow, apparel["category_id"]), "category_not_empty"
    )
    product = _product(writer, tees["category_id"])
    assert_rejected(writer, lambda uow: cat.archive_category(uow, tees["category_id"]), "category_not_empty")

    # parent_id: null makes it a root; other fields left out stay.
    moved = run(
        writer, lambda uow: cat.update_category(uow, tees["category_id"], cat.UpdateCategory(parent_id=None))
    )
    assert moved["parent_id"] is None and moved["name"] == "Tees"
    archived = run(writer, lambda uow: cat.archive_category(uow, apparel["category_id"]))
    assert archived["archived_at"] is not None
    assert_rejected(
        writer,
        lambda uow: cat.create_product(
            uow, cat.CreateProduct(name="P", category_id=apparel["category_id"], tax_class="standard")
        ),
        "category_archived",
    )
    assert_rejected(
        writer,
        lambda uow: cat.update_product(
            uow, product["product_id"], cat.UpdateProduct(category_id=apparel["category_id"])
        ),
        "category_archived",
    )


def test_sku_rules(writer):
    product = _product(writer, _category(writer)["category_id"])
    _sku(writer, product["product_id"], "TEE-M")
    assert_rejected(
        writer,
        lambda uow: cat.create_sku(
            uow,
            product["product_id"],
            cat.CreateSku(sku_code="TEE-M", name="dup", unit_cost_minor=1, price_minor=2),
        ),
        "sku_code_taken",
    )
    assert_rejected(
        writer,
        lambda uow: cat.create_sku(
            uow, "prd_nope", cat.CreateSku(sku_code="TEE-L", name="L", unit_cost_minor=1, price_minor=2)
        ),
        "product_not_found",
        kind="not_found",
    )
    assert_rejected(
        writer,
        lambda uow: cat.create_sku(
            uow,
            product["product_id"],
            cat.CreateSku(
                sku_code="TEE-L", name="L", unit_cost_minor=1, price_minor=2000, compare_at_minor=1500
            ),
        ),
        "invalid_compare_at",
    )
    # Types, ranges and unknown fields are refused by the command models, before any service runs.
    with pytest.raises(ValidationError):
        cat.CreateSku(sku_code="TEE-L", name="L", unit_cost_minor=-1, price_minor=2)
    with pytest.raises(ValidationError):
        cat.CreateSku(sku_code="bad code!", name="L", unit_cost_minor=1, price_minor=2)
    with pytest.raises(ValidationError):
        cat.CreateProduct(name="P", category_id="c", tax_class="standard", attributes={"w": 1.5})
    with pytest.raises(ValidationError):
        cat.UpdateSku(price_minor=100)  # prices change only through set_price


def test_update_product_and_sku(writer):
    product = _product(writer, _category(writer)["category_id"], description="old")
    sku = _sku(writer, product["product_id"])
    updated = run(
        writer,
        lambda uow: cat.update_product(
            uow,
            product["product_id"],
            cat.UpdateProduct(name="Better tee", description=None, attributes={"fit": "slim"}),
        ),
    )
    assert (updated["name"], updated["description"], updated["attributes"]) == (
        "Better tee",
        None,
        {"fit": "slim"},
    )
    assert updated["tax_class"] == "standard"
    sku2 = run(writer, lambda uow: cat.update_sku(uow, sku["sku_id"], cat.UpdateSku(unit_cost_minor=950)))
    assert sku2["unit_cost_minor"] == 950 and sku2["name"] == "TEE-M"
    assert scalar(writer, "select unit_cost_minor from skus where sku_id = ?", [sku["sku_id"]]) == 950


def test_archive_product_archives_its_skus(writer):
    product = _product(writer, _category(writer)["category_id"])
    a = _sku(writer, product["product_id"], "TEE-S")
    b = _sku(writer, product["product_id"], "TEE-L")
    archived = run(writer, lambda uow: cat.archive_product(uow, product["product_id"]))
    assert archived["status"] == "archived"
    assert {s["status"] for s in archived["skus"]} == {"archived"}
    rows = writer.con.execute(
        "select status, archived_at is not null from skus where sku_id in (?, ?)", [a["sku_id"], b["sku_id"]]
    ).fetchall()
    assert rows == [("archived", True), ("archived", True)]
    # Archiving again changes nothing; an archived product takes no new SKUs, edits or prices.
    run(writer, lambda uow: cat.archive_product(uow, product["product_id"]))
    assert_rejected(
        writer,
        lambda uow: cat.create_sku(
            uow,
            product["product_id"],
            cat.CreateSku(sku_code="TEE-XL", name="XL", unit_cost_minor=1, price_minor=2),
        ),
        "product_archived",
        kind="conflict",
    )
    assert_rejected(
        writer,
        lambda uow: cat.update_product(uow, product["product_id"], cat.UpdateProduct(name="x")),
        "product_archived",
    )
    assert_rejected(
        writer, lambda uow: cat.set_price(uow, a["sku_id"], cat.SetPrice(price_minor=1)), "sku_archived"
    )
    assert_rejected(
        writer, lambda uow: cat.update_sku(uow, a["sku_id"], cat.UpdateSku(name="x")), "sku_archived"
    )


def test_price_history_and_effective_price(writer, clock, tmp_path):
    sku = make_sku(writer, price_minor=2500)
    t0 = clock.now()
    clock.advance(timedelta(hours=1))
    sale_from = t0 + timedelta(days=2)
    run(
        writer,
        lambda uow: cat.set_price(
            uow,
            sku["sku_id"],
            cat.SetPrice(
                price_minor=1999, effective_from=sale_from, compare_at_minor=2500, reason="spring sale"
            ),
        ),
    )
    # Two prices, two rows: nothing is updated in place.
    history = writer.con.execute(
        "select price_minor, effective_from from sku_prices where sku_id = ? order by effective_from",
        [sku["sku_id"]],
    ).fetchall()
    assert history == [(2500, t0), (1999, sale_from)]

    def price_at(at):
        return run(writer, lambda uow: cat.effective_price(uow, sku["sku_id"], at))

    assert price_at(t0) == 2500
    assert price_at(sale_from - timedelta(microseconds=1)) == 2500
    assert price_at(sale_from) == 1999
    assert price_at(sale_from + timedelta(days=30)) == 1999
    assert_rejected(
        writer, lambda uow: cat.effective_price(uow, sku["sku_id"], t0 - timedelta(seconds=1)), "no_price"
    )

    # Same effective_from: the later created row wins.
    clock.advance(timedelta(minutes=5))
    run(
        writer,
        lambda uow: cat.set_price(
            uow, sku["sku_id"], cat.SetPrice(price_minor=1899, effective_from=sale_from, reason="deeper sale")
        ),
    )
    assert price_at(sale_from) == 1899
    # Reopening the store reloads the same history.
    writer.con.close()
    clock.advance(timedelta(seconds=1))  # a seeded id generator on an unmoved clock would repeat ids
    reopened = open_writer(tmp_path, clock)
    try:
        assert run(reopened, lambda uow: cat.effective_price(uow, sku["sku_id"], sale_from)) == 1899
        assert run(reopened, lambda uow: cat.effective_price(uow, sku["sku_id"], t0)) == 2500
    finally:
        reopened.con.close()


def test_set_price_rules(writer, clock):
    sku = make_sku(writer)
    assert_rejected(
        writer,
        lambda uow: cat.set_price(
            uow,
            sku["sku_id"],
            cat.SetPrice(price_minor=100, effective_from=clock.now() - timedelta(seconds=1)),
        ),
        "effective_from_in_past",
    )
    assert_rejected(
        writer,
        lambda uow: cat.set_price(uow, sku["sku_id"], cat.SetPrice(price_minor=100, compare_at_minor=100)),
        "invalid_compare_at",
    )
    assert_rejected(
        writer, lambda uow: cat.set_price(uow, "sku_nope", cat.SetPrice(price_minor=100)), "sku_not_found"
    )
    now_price = run(writer, lambda uow: cat.set_price(uow, sku["sku_id"], cat.SetPrice(price_minor=2000)))
    assert now_price["effective_from"] == clock.now()
    assert run(writer, lambda uow: cat.effective_price(uow, sku["sku_id"], clock.now())) == 2000
    with pytest.raises(ValidationError):
        cat.SetPrice(price_minor=100, effective_from="2026-03-02T10:00:00")  # naive instants are refused


def test_tax_rates(writer):
    def set_rate(region, rate):
        cmd = cat.SetTaxRate(region=region, tax_class="standard", rate=rate)
        return run(writer, lambda uow: cat.set_tax_rate(uow, cmd))

    def rate_for(region, tax_class="standard"):
        return run(writer, lambda uow: cat.tax_rate_for(uow, region, tax_class))

    assert_rejected(writer, lambda uow: cat.tax_rate_for(uow, "NY", "standard"), "no_tax_rate")
    set_rate("*", Decimal("0.05"))
    set_rate("NY", "0.08875")
    assert rate_for("NY") == Decimal("0.08875")
    assert rate_for("CA") == Decimal("0.05")  # fallback
    set_rate("NY", "0.09")  # upsert
    assert rate_for("NY") == Decimal("0.09")
    rows = writer.con.execute("select region, rate from tax_rates order by region").fetchall()
    assert rows == [("*", Decimal("0.050000")), ("NY", Decimal("0.090000"))]
    assert_rejected(writer, lambda uow: cat.tax_rate_for(uow, "NY", "reduced"), "no_tax_rate")
    for bad in ("1", "-0.01", "0.0000001"):
        with pytest.raises(ValidationError):
            cat.SetTaxRate(region="NY", tax_class="standard", rate=bad)
    with pytest.raises(ValidationError):
        cat.SetTaxRate(region="N;Y", tax_class="standard", rate="0.1")


def test_shipping_rates_replace_region_tiers(writer):
    def set_tiers(region, tiers):
        cmd = cat.SetShippingRates(
            region=region, tiers=[cat.ShippingTier(min_order_minor=m, fee_minor=f) for m, f in tiers]
        )
        return run(writer, lambda uow: cat.set_shipping_rates(uow, cmd))

    def tiers_in_db(region):
        return writer.con.execute(
            "select min_order_minor, fee_minor from shipping_rates where region = ? order by 1", [region]
        ).fetchall()

    set_tiers("*", [(0, 700)])
    set_tiers("NY", [(0, 500), (5000, 0)])
    assert tiers_in_db("NY") == [(0, 500), (5000, 0)]
    # Replacing keeps, changes, drops and adds tiers.
    body = set_tiers("NY", [(0, 600), (10000, 0)])
    assert body["tiers"] == [
        {"min_order_minor": 0, "fee_minor": 600},
        {"min_order_minor": 10000, "fee_minor": 0},
    ]
    assert tiers_in_db("NY") == [(0, 600), (10000, 0)]
    assert_rejected(
        writer,
        lambda uow: cat.set_shipping_rates(
            uow,
            cat.SetShippingRates(
                region="NY",
                tiers=[
                    cat.ShippingTier(min_order_minor=0, fee_minor=1),
                    cat.ShippingTier(min_order_minor=0, fee_minor=2),
                ],
            ),
        ),
        "duplicate_tier",
    )

    ny = run(writer, lambda uow: cat.shipping_rates_for(uow, "NY"))
    assert ny == [ShippingRate("NY", 0, 600), ShippingRate("NY", 10000, 0), ShippingRate("*", 0, 700)]
    ca = run(writer, lambda uow: cat.shipping_rates_for(uow, "CA"))
    line = [LineInput("sku", 1, 2000, Decimal("0"))]
    assert (
        price_order(line, tax_mode="exclusive", discounts=[], shipping_rates=ny, region="NY").shipping_minor
        == 600
    )
    assert (
        price_order(line, tax_mode="exclusive", discounts=[], shipping_rates=ca, region="CA").shipping_minor
        == 700
    )
    set_tiers("NY", [])  # an empty list removes the region's tiers: NY falls back to "*"
    assert tiers_in_db("NY") == []


def test_catalogue_survives_reopening(writer, clock, tmp_path):
    sku = make_sku(writer, "MUG-1", price_minor=1200)
    run(
        writer,
        lambda uow: cat.set_tax_rate(uow, cat.SetTaxRate(region="*", tax_class="standard", rate="0.07")),
    )
    run(
        writer,
        lambda uow: cat.set_shipping_rates(
            uow, cat.SetShippingRates(region="*", tiers=[cat.ShippingTier(min_order_minor=0, fee_minor=450)])
        ),
    )
    writer.con.close()
    clock.advance(timedelta(seconds=1))  # a seeded id generator on an unmoved clock would repeat ids
    reopened = open_writer(tmp_path, clock)
    try:
        state = reopened.state
        assert state.get("skus", (sku["sku_id"],))["sku_code"] == "MUG-1"
        assert len(state.lookup("sku_prices", "sku_id", sku["sku_id"])) == 1
        assert run(reopened, lambda uow: cat.tax_rate_for(uow, "TX", "standard")) == Decimal("0.07")
        assert run(reopened, lambda uow: cat.shipping_rates_for(uow, "TX")) == [ShippingRate("*", 0, 450)]
        # Uniqueness holds against what was loaded, not only against this process's own writes.
        assert_rejected(
            reopened,
            lambda uow: cat.create_sku(
                uow,
                sku["product_id"],
                cat.CreateSku(sku_code="MUG-1", name="x", unit_cost_minor=1, price_minor=1),
            ),
            "sku_code_taken",
        )
    finally:
        reopened.con.close()


def test_catalogue_reads(writer, clock):
    t0 = clock.now()
    sku = make_sku(writer, "CAP-1", price_minor=1500)
    product_id = sku["product_id"]
    later = t0 + timedelta(days=1)
    run(
        writer,
        lambda uow: cat.set_price(uow, sku["sku_id"], cat.SetPrice(price_minor=1200, effective_from=later)),
    )
    run(
        writer,
        lambda uow: cat.set_tax_rate(uow, cat.SetTaxRate(region="NY", tax_class="standard", rate="0.08")),
    )
    run(
        writer,
        lambda uow: cat.set_shipping_rates(
            uow,
            cat.SetShippingRates(
                region="NY",
                tiers=[
                    cat.ShippingTier(min_order_minor=5000, fee_minor=0),
                    cat.ShippingTier(min_order_minor=0, fee_minor=500),
                ],
            ),
        ),
    )
    other = make_sku(writer, "CAP-2")
    cur = writer.con.cursor()

    product = reads.get_product(cur, product_id, at=t0)
    assert product["attributes"] == {} and [s["sku_code"] for s in product["skus"]] == ["CAP-1"]
    assert product["skus"][0]["price_minor"] == 1500 and product["skus"][0]["attributes"] == {}
    assert reads.get_product(cur, product_id, at=later)["skus"][0]["price_minor"] == 1200
    assert reads.get_product(cur, "prd_nope", at=t0) is None
    assert reads.get_sku(cur, sku["sku_id"], at=t0 - timedelta(seconds=1))["price_minor"] is None

    first = reads.list_products(cur, at=later, limit=1)
    assert len(first["items"]) == 1 and first["next_after"] == first["items"][0]["product_id"]
    second = reads.list_products(cur, at=later, limit=1, after=first["next_after"])
    assert {first["items"][0]["product_id"], second["items"][0]["product_id"]} == {
        product_id,
        other["product_id"],
    }
    assert second["next_after"] is None
    by_category = reads.list_products(
        cur, at=t0, category_id=reads.get_product(cur, product_id, at=t0)["category_id"]
    )
    assert [p["product_id"] for p in by_category["items"]] == [product_id]

    history = reads.sku_price_history(cur, sku["sku_id"])
    assert [h["price_minor"] for h in history] == [1500, 1200]
    assert reads.list_tax_rates(cur) == [
        {"region": "NY", "tax_class": "standard", "rate": Decimal("0.080000"), "updated_at": clock.now()}
    ]
    shipping = reads.list_shipping_rates(cur, region="NY")
    assert [(t["min_order_minor"], t["fee_minor"]) for t in shipping[0]["tiers"]] == [(0, 500), (5000, 0)]
    categories = reads.list_categories(cur)
    assert len(categories["items"]) == 2 and categories["next_after"] is None
    assert reads.get_category(cur, product["category_id"])["name"] == "Cat CAP-1"
