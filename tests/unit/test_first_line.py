"""`first_line`: an error as one line, credentials hidden, on any text (it is in the alert path)."""

from __future__ import annotations

from liftoff.config import first_line


def test_credentials_in_a_url_are_hidden_before_the_cut() -> None:
    error = RuntimeError("sync failed: postgresql://owner:s3cret@db:5432/wh refused\nTraceback …")
    assert first_line(error) == "sync failed: postgresql://***@db:5432/wh refused"
    long_scheme = RuntimeError("at " + "x" * 290 + " https://user:pw@host/")
    assert "pw" not in first_line(long_scheme) and len(first_line(long_scheme)) == 300
    glued = RuntimeError("connect_to_the_warehouse_failed_postgresql://u:secret@h/db")
    assert "secret" not in first_line(glued), "a scheme glued to a long word is a URL still"


def test_a_text_that_looks_like_a_scheme_everywhere_is_read_once() -> None:
    """`a.a.a.…` made the unbounded scheme pattern try every start against every end: 20,000
    of them took 3.9 s. A million must come back (linear), the cut applied."""
    assert first_line("a." * 1_000_000) == ("a." * 150)
    assert first_line(ValueError("")) == "ValueError"
