"""`emporium`: serve the API, admin the store offline, and operate it over HTTP."""

from __future__ import annotations

import sys
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from transactional.cli.client import ApiClient, option_key, option_url
from transactional.cli.offline import fail, offline_runtime, run_offline
from transactional.config import Settings
from transactional.services import keys as key_service
from transactional.services.store import create_store

app = typer.Typer(help="Emporium: an e-commerce data platform.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys (offline: the server must not be running).", no_args_is_help=True)
orders_app = typer.Typer(help="Orders, through the running server.", no_args_is_help=True)
stock_app = typer.Typer(help="Stock, through the running server.", no_args_is_help=True)
alerts_app = typer.Typer(help="Inventory alerts, through the running server.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(orders_app, name="orders")
app.add_typer(stock_app, name="stock")
app.add_typer(alerts_app, name="alerts")
ledger_app = typer.Typer(help="The ledger, through the running server.", no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")
demo_app = typer.Typer(help="The demo store.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")
lake_app = typer.Typer(help="The analytics lake's raw layer.", no_args_is_help=True)
app.add_typer(lake_app, name="lake")

# Piped output keeps whole ids (a narrow default width would cut them).
console = Console(width=None if sys.stdout.isatty() else 250)


def _settings(data_dir: str | None = None) -> Settings:
    settings = Settings()
    if data_dir:
        settings.data_dir = settings.data_dir.__class__(data_dir)
    return settings


DataDir = typer.Option(None, "--data-dir", help="Store directory (default: EMPORIUM_DATA_DIR or ./data)")
AsJson = typer.Option(False, "--json", help="Print raw JSON")


def _print(value: Any, as_json: bool, columns: list[str] | None = None) -> None:
    items = value.get("items") if isinstance(value, dict) else None
    if as_json or columns is None or items is None:
        console.print_json(orjson.dumps(value, default=str).decode())
        return
    table = Table(*columns)
    for item in items:
        table.add_row(*(str(item.get(c, "")) for c in columns))
    console.print(table)
    if value.get("next_after"):
        console.print(f"more: --after {value['next_after']}")


# -- offline admin ---------------------------------------------------------------
@app.command()
def init(
    name: str = typer.Option(..., help="Store name"),
    currency: str = typer.Option(..., help="ISO 4217 code, e.g. USD, EUR, CNY, JPY"),
    timezone: str = typer.Option(..., help="IANA timezone, e.g. Asia/Shanghai"),
    tax_mode: str = typer.Option("exclusive", help="'inclusive' or 'exclusive' (prices include tax or not)"),
    order_ttl: int = typer.Option(1800, help="Seconds an unpaid order holds its stock"),
    data_dir: str | None = DataDir,
) -> None:
    """Create the store (currency, timezone and tax mode are fixed from then on)."""
    store = run_offline(
        _settings(data_dir),
        "emporium init",
        lambda uow: create_store(
            uow,
            name=name,
            currency=currency,
            timezone=timezone,
            tax_mode=tax_mode,
            order_ttl_seconds=order_ttl,
        ),
        require_store=False,
    )
    console.print_json(orjson.dumps(store, default=str).decode())


@app.command()
def migrate(data_dir: str | None = DataDir) -> None:
    """Apply pending schema migrations (opening the store applies them)."""
    with offline_runtime(_settings(data_dir), "emporium migrate") as runtime:
        versions = runtime.writer.con.execute(
            "select name from schema_migrations order by version"
        ).fetchall()
    console.print(f"schema at {versions[-1][0]}")


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Bind address (default 127.0.0.1)"),
    port: int | None = typer.Option(None, help="Port (default 8000)"),
    data_dir: str | None = DataDir,
) -> None:
    """Serve the HTTP API; SIGTERM drains queued writes, commits, then exits."""
    import signal

    import uvicorn

    from transactional.api import logs
    from transactional.api.main import create_app

    settings = _settings(data_dir)
    logs.configure(settings.log_level)
    # DuckDB re-takes the GIL many times inside one statement; with the default 5 ms
    # switch interval each wait behind the event loop stretched a commit 2-10x
    # (bench/README: measured 0.2 ms as the best of 5, 1 and 0.2 ms).
    sys.setswitchinterval(settings.gil_switch_interval_seconds)
    with offline_runtime(settings, "emporium serve") as runtime:
        if not runtime.writer.state.tables["store"].rows:
            raise fail(f"no store in {settings.data_dir}; run `emporium init` first")
        config = uvicorn.Config(
            create_app(runtime),
            host=host or settings.host,
            port=port or settings.port,
            loop="uvloop",
            http="httptools",
            log_config=None,
            access_log=False,
            backlog=4096,
        )
        server = uvicorn.Server(config)
        # After its graceful shutdown (the lifespan drains and commits the writer's queue),
        # uvicorn re-raises SIGTERM to the handler it found; the default one would kill the
        # process before the store is closed, with exit code -15. This one only asks to exit.
        signal.signal(signal.SIGTERM, lambda *_: setattr(server, "should_exit", True))
        server.run()


@keys_app.command("create")
def keys_create(
    role: str = typer.Option(..., help="storefront, operator, finance, admin or pipeline"),
    name: str = typer.Option("cli", help="A label for the key"),
    data_dir: str | None = DataDir,
) -> None:
    """Create an API key and print its secret (shown once)."""
    created = run_offline(
        _settings(data_dir),
        "emporium keys create",
        lambda uow: key_service.create_key(uow, key_service.CreateKey(role=role, name=name)),
    )
    console.print_json(orjson.dumps(created, default=str).decode())


@keys_app.command("list")
def keys_list(data_dir: str | None = DataDir) -> None:
    """List API keys."""
    with offline_runtime(_settings(data_dir), "emporium keys list") as runtime:
        rows = [key_service.key_view(r) for r in runtime.writer.state.scan("api_keys")]
    _print({"items": rows}, False, ["key_id", "name", "role", "display_prefix", "created_at", "revoked_at"])


@keys_app.command("revoke")
def keys_revoke(key_id: str, data_dir: str | None = DataDir) -> None:
    """Revoke an API key."""
    run_offline(_settings(data_dir), "emporium keys revoke", lambda uow: key_service.revoke_key(uow, key_id))
    console.print(f"revoked {key_id}")


@keys_app.command("rotate")
def keys_rotate(key_id: str, data_dir: str | None = DataDir) -> None:
    """Replace an API key's secret (the old one stops working at once)."""
    fresh = run_offline(
        _settings(data_dir), "emporium keys rotate", lambda uow: key_service.rotate_key(uow, key_id)
    )
    console.print_json(orjson.dumps(fresh, default=str).decode())


@demo_app.command("seed")
def demo_seed(data_dir: str | None = DataDir) -> None:
    """Create a small seeded store (rates, 2 warehouses, 19 SKUs with stock, one API key per role).

    Does nothing if the data dir already holds a store. The keys are written
    to <data dir>/demo-keys.json (readable by the owner only).
    """
    import os

    from transactional.demo.seed import seed_store

    settings = _settings(data_dir)
    with offline_runtime(settings, "emporium demo seed") as runtime:
        if runtime.writer.state.tables["store"].rows:
            console.print(f"{settings.data_dir} already holds a store; keys are in demo-keys.json")
            return
        result = seed_store(runtime.writer)
    path = settings.data_dir / "demo-keys.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(orjson.dumps(result["keys"], option=orjson.OPT_INDENT_2))
    console.print(f"seeded {result['skus']} SKUs in {result['warehouses']} warehouses; API keys in {path}")


@demo_app.command("up")
def demo_up(
    data_dir: str | None = DataDir,
    months: int = typer.Option(6, min=1, max=36, help="Months to simulate when the store is built."),
    rebuild: bool = typer.Option(False, help="Start over: a new store, lake, warehouse, marts and Dagster."),
    api_port: int = typer.Option(8000, min=1, max=65535, help="API server port."),
    dagster_port: int = typer.Option(3000, min=1, max=65535, help="Dagster webserver port."),
    dashboards_port: int = typer.Option(8501, min=1, max=65535, help="Dashboards port."),
) -> None:
    """The whole demo on loopback: build the store once, materialize every asset, then serve the API,
    Dagster (webserver + daemon: schedules and sensors run) and the dashboards until Ctrl-C.

    A second run reuses the built store and marts (--rebuild starts over).
    """
    import signal
    import subprocess

    from transactional.cli.stack import BIN, Stack, reset
    from transactional.storage.database import LOCK_FILE, STORE_FILE, StoreLock, StoreLocked

    settings = _settings(data_dir)
    root = settings.data_dir.resolve()
    ports = {api_port, dagster_port, dashboards_port}
    if len(ports) != 3:
        raise fail("--api-port, --dagster-port and --dashboards-port must differ")
    lock = StoreLock(root / LOCK_FILE)
    try:
        lock.acquire("emporium demo up (check)")
    except StoreLocked as exc:
        raise fail(exc.detail) from None
    lock.release()
    if rebuild:
        reset(root)
    if not (root / STORE_FILE).exists():
        console.print(f"building the demo store in {root} ({months} months) ...")
        built = subprocess.run(
            [str(BIN / "emporium"), "demo", "build", "--data-dir", str(root), "--months", str(months)]
        )
        if built.returncode != 0:
            raise fail("the demo build failed", built.returncode)
    else:
        console.print(f"reusing the demo store in {root} (--rebuild to start over)")
    stack = Stack(root, api_port=api_port, dagster_port=dagster_port, dashboards_port=dashboards_port,
                  say=console.print)  # fmt: skip
    stack.prepare_dagster_home()

    def on_term(*_: Any) -> None:
        raise KeyboardInterrupt

    def stop() -> None:
        # A second Ctrl-C or SIGTERM must not cut the orderly stop short and leave servers running:
        # each group gets SIGTERM, then SIGKILL after a bounded wait, whatever arrives meanwhile.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()

    signal.signal(signal.SIGTERM, on_term)
    try:
        if not (root / "marts.duckdb").exists():
            stack.materialize()
        stack.define_services()
        stack.start()
        console.print("[bold]all up[/] — Ctrl-C stops everything")
        stack.wait()
    except KeyboardInterrupt:
        console.print("stopping ...")
    except RuntimeError as exc:
        stop()
        raise fail(str(exc)) from None
    stop()


@demo_app.command("build")
def demo_build(
    data_dir: str | None = DataDir,
    months: int = typer.Option(6, min=1, max=36, help="How many months to simulate."),
    days: int | None = typer.Option(None, min=1, max=1100, help="A period in days instead (short builds)."),
    end_date: str | None = typer.Option(None, help="Last simulated day, YYYY-MM-DD (default: today)."),
    seed: int = typer.Option(42, help="Same seed and options, same store."),
    scale: int = typer.Option(1, min=1, max=100, help="1 = default size; 10 for benchmarks."),
    rebuild: bool = typer.Option(False, help="Delete the store in the data dir first."),
) -> None:
    """Build the demo store: months of a shop's life simulated through the real services.

    Writes the store, ground_truth.json (the simulator's own tally) and
    demo-keys.json (one API key per role) into the data dir. Refuses a data dir
    that already holds a store unless --rebuild.
    """
    import shutil
    from datetime import date

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from transactional.demo.build import BuildOptions, build_demo
    from transactional.domain.errors import DomainError
    from transactional.storage.database import STORE_FILE

    settings = _settings(data_dir)
    try:
        last = date.fromisoformat(end_date) if end_date else None
    except ValueError:
        raise fail(f"--end-date must be YYYY-MM-DD, got {end_date!r}") from None
    if rebuild and settings.data_dir.exists():
        for name in (STORE_FILE, STORE_FILE + ".wal", "ground_truth.json", "demo-keys.json"):
            (settings.data_dir / name).unlink(missing_ok=True)
        shutil.rmtree(settings.data_dir / "lake", ignore_errors=True)
    options = BuildOptions(settings.data_dir, months=months, days=days, end_date=last, seed=seed, scale=scale)
    first, final = options.period()
    total_days = (final - first).days + 1
    with Progress(
        TextColumn("[bold]simulating[/] {task.fields[day]}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} days"),
        TextColumn("{task.fields[orders]} orders, {task.fields[rate]} commands/s"),
        TimeElapsedColumn(),
        console=console,
        transient=not sys.stdout.isatty(),
    ) as progress:
        task = progress.add_task("build", total=total_days, day="", orders=0, rate=0)

        def on_day(report: Any, sim: Any) -> None:
            rate = round(report.commands / report.seconds) if report.seconds else 0
            orders = sim.truth.totals()["orders_paid"]
            progress.update(task, advance=1, day=report.day.isoformat(), orders=orders, rate=rate)

        try:
            summary = build_demo(options, on_day=on_day)
        except DomainError as exc:
            raise fail(exc.detail) from None
    t = summary.totals
    table = Table(title=f"demo store {summary.start} .. {summary.end} in {settings.data_dir}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for name, value in (
        ("days simulated", summary.days),
        ("orders placed", t["orders_placed"]),
        ("orders paid", t["orders_paid"]),
        ("orders cancelled / expired", f"{t['orders_cancelled']} / {t['orders_expired']}"),
        ("revenue (total, USD)", f"{t['total_minor'] / 100:,.2f}"),
        ("refunds (USD)", f"{t['refunded_minor'] / 100:,.2f}"),
        ("customers", summary.customers),
        ("sessions", t["sessions"]),
        ("events", summary.events),
        ("commands", summary.commands),
        ("time taken", f"{summary.seconds:.0f} s"),
    ):
        table.add_row(name, str(value))
    console.print(table)


# -- operator commands over HTTP ---------------------------------------------------
ORDER_COLUMNS = ["order_id", "status", "customer_id", "total_minor", "placed_at"]


@orders_app.command("list")
def orders_list(
    status: str | None = None,
    customer: str | None = None,
    limit: int = 50,
    after: str | None = None,
    url: str | None = option_url(),
    key: str | None = option_key(),
    as_json: bool = AsJson,
) -> None:
    """List orders, newest ids last."""
    client = ApiClient(Settings(), url, key)
    result = client.call(
        "GET",
        "/api/v1/orders",
        params={"status": status, "customer_id": customer, "limit": limit, "after": after},
    )
    _print(result, as_json, ORDER_COLUMNS)


LEDGER_COLUMNS = ["day", "account", "provider", "debit_minor", "credit_minor", "balance_minor"]


@ledger_app.command("balances")
def ledger_balances(
    day_from: str | None = typer.Option(None, "--day-from", help="First store-local day (YYYY-MM-DD)"),
    day_to: str | None = typer.Option(None, "--day-to", help="Last store-local day (YYYY-MM-DD)"),
    url: str | None = option_url(),
    key: str | None = option_key(),
    as_json: bool = AsJson,
) -> None:
    """Ledger balances (debit − credit) per store-local day, account and provider."""
    client = ApiClient(Settings(), url, key)
    result = client.call("GET", "/api/v1/ledger/balances", params={"day_from": day_from, "day_to": day_to})
    _print(result, as_json, LEDGER_COLUMNS)


@orders_app.command("show")
def orders_show(order_id: str, url: str | None = option_url(), key: str | None = option_key()) -> None:
    """Show one order with lines, allocations and status history."""
    _print(ApiClient(Settings(), url, key).call("GET", f"/api/v1/orders/{order_id}"), True)


@orders_app.command("cancel")
def orders_cancel(
    order_id: str,
    reason: str = typer.Option(..., help="Why the order is cancelled"),
    url: str | None = option_url(),
    key: str | None = option_key(),
) -> None:
    """Cancel an order (before shipment) and release its stock."""
    result = ApiClient(Settings(), url, key).call(
        "POST", f"/api/v1/orders/{order_id}/cancel", json={"reason": reason}, idempotent=True
    )
    console.print(f"{result['order_id']} is now {result['status']}")


@stock_app.command("show")
def stock_show(
    sku: str | None = None,
    warehouse: str | None = None,
    limit: int = 50,
    after: str | None = None,
    url: str | None = option_url(),
    key: str | None = option_key(),
    as_json: bool = AsJson,
) -> None:
    """Stock per SKU and warehouse: on hand, reserved, available, reorder point."""
    result = ApiClient(Settings(), url, key).call(
        "GET",
        "/api/v1/stock",
        params={"sku_id": sku, "warehouse_id": warehouse, "limit": limit, "after": after},
    )
    _print(result, as_json, ["sku_id", "warehouse_id", "on_hand", "reserved", "available", "reorder_point"])


@stock_app.command("adjust")
def stock_adjust(
    sku: str,
    warehouse: str,
    delta: int = typer.Argument(..., help="Units to add (negative removes)"),
    reason: str = typer.Option(..., help="Why (count correction, damage, ...)"),
    url: str | None = option_url(),
    key: str | None = option_key(),
) -> None:
    """Adjust on-hand stock (journaled as an adjustment)."""
    result = ApiClient(Settings(), url, key).call(
        "POST",
        f"/api/v1/stock/{sku}/{warehouse}/adjustments",
        json={"delta": delta, "reason": reason},
        idempotent=True,
    )
    _print(result, True)


@stock_app.command("receive")
def stock_receive(
    purchase_order_id: str,
    line: list[str] = typer.Option(..., "--line", help="LINE_ID=QUANTITY, repeatable"),
    note: str | None = None,
    url: str | None = option_url(),
    key: str | None = option_key(),
) -> None:
    """Receive goods against a purchase order."""
    lines = []
    for item in line:
        line_id, _, qty = item.partition("=")
        if not qty.isdigit():
            raise fail(f"--line must be LINE_ID=QUANTITY, got {item!r}")
        lines.append({"purchase_order_line_id": line_id, "quantity": int(qty)})
    result = ApiClient(Settings(), url, key).call(
        "POST",
        f"/api/v1/purchase-orders/{purchase_order_id}/receipts",
        json={"lines": lines, "note": note},
        idempotent=True,
    )
    _print(result, True)


@alerts_app.command("list")
def alerts_list(
    status: str | None = typer.Option("open", help="open, acknowledged, resolved"),
    kind: str | None = typer.Option(None, "--kind", help="low_stock, stockout_forecast, overstock"),
    source: str | None = typer.Option(None, "--source", help="core (low stock) or pipeline (forecasts)"),
    sku: str | None = typer.Option(None, "--sku", help="Only this SKU id"),
    warehouse: str | None = typer.Option(None, "--warehouse", help="Only this warehouse id"),
    limit: int = 100,
    after: str | None = None,
    url: str | None = option_url(),
    key: str | None = option_key(),
    as_json: bool = AsJson,
) -> None:
    """Inventory alerts: the core's low stock and the pipeline's forecasts (stockout, overstock)."""
    result = ApiClient(Settings(), url, key).call(
        "GET",
        "/api/v1/alerts",
        params={
            "status": status,
            "kind": kind,
            "source": source,
            "sku_id": sku,
            "warehouse_id": warehouse,
            "limit": limit,
            "after": after,
        },
    )
    if as_json:
        _print(result, True)
        return
    console.print(_alerts_table(result["items"]))
    if result.get("next_after"):
        console.print(f"more: --after {result['next_after']}")


# (header, field): short headers keep a row of ids and figures within a terminal's width.
_ALERT_COLUMNS = (
    ("alert_id", "alert_id"),
    ("kind", "kind"),
    ("source", "source"),
    ("severity", "severity"),
    ("status", "status"),
    ("sku_id", "sku_id"),
    ("warehouse_id", "warehouse_id"),
    ("avail@raise", "available_at_raise"),
    ("reorder pt", "reorder_point"),
    ("stockout on", "forecast_stockout_date"),
    ("reorder qty", "suggested_reorder_quantity"),
    ("raised", "raised_at"),
)


def _alerts_table(items: list[dict[str, Any]]) -> Table:
    table = Table()
    for header, field in _ALERT_COLUMNS:
        table.add_column(header, no_wrap=field.endswith("_id"))
    for item in items:
        cells = []
        for _, field in _ALERT_COLUMNS:
            value = item.get(field)
            if value is None:
                cells.append("-")  # a core alert has no forecast figures, a forecast no reorder point
            elif field == "raised_at":
                cells.append(str(value)[:16].replace("T", " "))
            else:
                cells.append(str(value))
        table.add_row(*cells)
    return table


@alerts_app.command("ack")
def alerts_ack(alert_id: str, url: str | None = option_url(), key: str | None = option_key()) -> None:
    """Acknowledge an alert."""
    ApiClient(Settings(), url, key).call("POST", f"/api/v1/alerts/{alert_id}/acknowledge")
    console.print(f"acknowledged {alert_id}")


@lake_app.command("snapshot")
def lake_snapshot(
    data_dir: str | None = DataDir,
    lake_dir: str | None = typer.Option(None, "--lake-dir", help="Lake directory (default: <data dir>/lake)"),
    as_json: bool = AsJson,
) -> None:
    """Export a consistent Parquet snapshot of the store to the lake (offline: the server must not be
    running; with a server, POST /api/v1/lake/snapshots with a pipeline key)."""
    from pathlib import Path

    from transactional.api.routes.lake import run_export, summary
    from transactional.domain.errors import DomainError

    settings = _settings(data_dir)
    if lake_dir:
        settings.lake_dir = Path(lake_dir)
    with offline_runtime(settings, "emporium lake snapshot") as runtime:
        if not runtime.writer.state.tables["store"].rows:
            raise fail(f"no store in {settings.data_dir}; run `emporium init` first")
        try:
            manifest = run_export(runtime)
        except DomainError as exc:
            raise fail(f"{exc.detail} [{exc.code}]") from None
    result = summary(manifest, str(settings.lake_path))
    if as_json:
        console.print_json(orjson.dumps(result, default=str).decode())
        return
    added = sum(t.get("rows_added", t["rows"]) for t in result["tables"].values())
    console.print(
        f"snapshot {result['snapshot_id']} at commit {result['commit_seq']}: "
        f"{added} rows written to {result['lake_dir']} in {result['duration_ms'] / 1000:.1f} s"
    )


if __name__ == "__main__":
    app()
