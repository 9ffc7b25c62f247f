"""One router per resource; ROUTERS is what the app mounts."""

from transactional.api.routes import health, keys, store

ROUTERS = [health.router, store.router, keys.router]
