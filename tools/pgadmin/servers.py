"""pgAdmin's servers.json for this deployment, written at the container's start.

pgAdmin reads its servers file as it is (no variable is expanded in it), so
docker-compose.yaml runs this with pgAdmin's own Python before the image's entrypoint:
``python servers.py TEMPLATE OUTPUT`` copies tools/pgadmin/servers.json with each server's
maintenance database (the one pgAdmin logs in to first: the analyst may connect to it) and
its database restriction set to ``DB_NAME_PROD``, then PGADMIN_SERVER_JSON_FILE names the
output. pgAdmin loads the file at its first start (an empty pgadmin volume). Standard
library only: it runs in pgAdmin's image, not ours.
"""

from __future__ import annotations

import json
import os
import sys


def render(template: dict, database: str) -> dict:
    """``template`` with every server's MaintenanceDB and DBRestriction set to ``database``."""
    servers = {
        key: {**server, "MaintenanceDB": database, "DBRestriction": database}
        for key, server in template["Servers"].items()
    }
    return {**template, "Servers": servers}


def main(argv: list[str]) -> int:
    template_path, output_path = argv
    database = os.environ.get("DB_NAME_PROD") or "liftoff"
    with open(template_path, encoding="utf-8") as file:
        template = json.load(file)
    with open(output_path, "w", encoding="utf-8") as file:
        json.dump(render(template, database), file, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
