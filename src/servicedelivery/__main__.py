"""``python -m servicedelivery``: the command line."""

from servicedelivery._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
