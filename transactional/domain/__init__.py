"""Pure business rules of the store: no I/O, no SQL, no clocks read directly."""
