"""The dbt docs page: Cosmos' callback puts what `dbt docs generate --static` wrote in the
archive; the app reads it back, or says there is none yet."""

from __future__ import annotations

from pathlib import Path

from liftoff.archive.store import LocalFolderStore
from liftoff.transform.dbt_docs import DOCS_KEY, publish_docs, published_docs


def test_the_generated_page_goes_to_the_archive_and_back(tmp_path: Path) -> None:
    store = LocalFolderStore(tmp_path / "archive")
    assert published_docs(store) is None  # before the first dbt_docs run
    project = tmp_path / "project"
    (project / "target").mkdir(parents=True)
    (project / "target" / "static_index.html").write_text("<html>gold_sales_daily</html>")
    (project / "target" / "index.html").write_text("<html>needs manifest.json beside it</html>")
    assert publish_docs(str(project), store=store, context={}) == DOCS_KEY
    assert published_docs(store) == b"<html>gold_sales_daily</html>"
    (project / "target" / "static_index.html").write_text("<html>the next refresh</html>")
    publish_docs(str(project), store=store)
    assert published_docs(store) == b"<html>the next refresh</html>"  # replaced, one page
    assert [key for key in store.list("docs/")] == [DOCS_KEY]
