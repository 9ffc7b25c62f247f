"""One router per resource; ROUTERS is what the app mounts."""

from transactional.api.routes import (
    catalogue,
    customers,
    events,
    health,
    inventory,
    keys,
    lake,
    orders,
    payments,
    purchasing,
    shipping,
    store,
)

ROUTERS = [
    health.router,
    store.router,
    keys.router,
    catalogue.router,
    customers.router,
    inventory.router,
    purchasing.router,
    orders.router,
    payments.router,
    shipping.router,
    events.router,
    lake.router,
]


def endpoints() -> dict[str, str]:
    """operationId → "METHOD /path" for every mounted route."""
    found: dict[str, str] = {}
    for router in ROUTERS:
        for route in router.routes:
            operation = getattr(route, "operation_id", None)
            if operation:
                found[operation] = f"{sorted(route.methods)[0]} {route.path}"  # type: ignore[attr-defined]
    return found
