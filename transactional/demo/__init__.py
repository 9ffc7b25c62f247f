"""The demo store: a small seeded catalogue today; the simulator lands with issue 5."""
