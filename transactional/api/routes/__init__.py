"""One router per resource; ROUTERS is what the app mounts."""

from transactional.api.routes import catalogue, customers, health, inventory, keys, orders, purchasing, store

ROUTERS = [
    health.router,
    store.router,
    keys.router,
    catalogue.router,
    customers.router,
    inventory.router,
    purchasing.router,
    orders.router,
]
