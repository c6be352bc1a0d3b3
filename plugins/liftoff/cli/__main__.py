"""``python -m liftoff.cli``: the ``liftoff`` command."""

from liftoff.cli import app

if __name__ == "__main__":
    app()
