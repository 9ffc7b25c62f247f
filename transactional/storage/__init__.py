"""All SQL of the core lives here: migrations, the table registry, the in-memory
hot state, the serial writer and the read queries."""
