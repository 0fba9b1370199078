"""One servicer per service of the contract."""

from tq_grpc.servicers.development import DevelopmentServicer
from tq_grpc.servicers.projects import ProjectServicer
from tq_grpc.servicers.system import SystemServicer
from tq_grpc.servicers.tasks import TaskServicer
from tq_grpc.servicers.workflows import WorkflowServicer

__all__ = [
    "DevelopmentServicer",
    "ProjectServicer",
    "SystemServicer",
    "TaskServicer",
    "WorkflowServicer",
]
