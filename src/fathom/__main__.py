"""``python -m fathom``: the same command line as the ``fathom`` script."""

from fathom.cli import main

if __name__ == "__main__":
    main()
