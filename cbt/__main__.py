"""``python -m cbt`` is the same as the ``cbt`` command."""

from cbt.cli import main

main()
