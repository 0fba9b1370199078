"""Dashboard: a NiceGUI web UI over the task queue's gRPC stubs.

Served on the HTTP port beside REST and MCP: the overview at ``/``, every
other page under ``/ui/`` (``add_dashboard``).
"""

from tq_ui.mount import DASHBOARD_PATHS, add_dashboard, is_dashboard_path

__all__ = ["DASHBOARD_PATHS", "add_dashboard", "is_dashboard_path"]
