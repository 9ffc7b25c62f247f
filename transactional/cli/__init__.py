"""The `emporium` command line: offline admin commands and operator commands over HTTP."""
