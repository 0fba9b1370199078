"""REST adapter: a FastAPI app over the gRPC stubs."""

from tq_rest.app import close_streams, create_app

__all__ = ["close_streams", "create_app"]
