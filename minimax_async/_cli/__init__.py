"""The command line (``minimax-async``: demo, bulk, serve): the top layer of the package."""
