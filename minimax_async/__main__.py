"""``python -m minimax_async``: the same command line as ``minimax-async``."""

import sys

from ._cli.cli import main

if __name__ == "__main__":
    sys.exit(main())
