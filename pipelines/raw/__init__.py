"""Raw layer of the analytics platform: validation of the Parquet lake (schemas, quarantine)."""
