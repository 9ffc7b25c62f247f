"""The analytics tests share the session fixtures ``built`` (a 12-day demo store, its lake and a
warehouse built by ``dbt build``) and ``published_marts``, defined in tests/fixtures/warehouse.py so
that pipeline and dashboard tests share the same build."""
