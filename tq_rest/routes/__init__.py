"""The REST routes, one module per noun."""
