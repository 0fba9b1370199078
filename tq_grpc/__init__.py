"""The canonical API: generated stubs, servicers, server factory, settings."""
