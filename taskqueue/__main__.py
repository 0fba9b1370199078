"""Run the ``task-queue`` command line: ``python -m taskqueue``."""

import sys

from taskqueue.cli import main

if __name__ == "__main__":
    sys.exit(main())
