"""The team deployment's Airflow logins: one per person, a role each (FAB auth manager).

docker-compose.yaml runs Airflow with the FAB auth manager (``apache-airflow-providers-fab``);
the embedded default (``liftoff airflow``) keeps the simple auth manager: one machine, one
person. Our three kinds of user map to FAB's standard roles:

- ``analyst`` -> ``Viewer``: reads DAGs, runs, task instances and logs; changes nothing.
- ``oncall``  -> ``User``: also clears task instances, triggers runs and creates backfills
  (Airflow 3 authorizes a backfill as creating the DAG's runs); no connections, variables,
  pools, users or roles.
- ``admin``   -> ``Admin``: everything, users and roles too.

The password is set in this process through FAB's security manager (the API ``airflow users
create`` calls): it comes from a prompt or standard input, never from a command line, so it
never shows in a process list; no ``airflow`` child process is started at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
ROLES = {"analyst": "Viewer", "oncall": "User", "admin": "Admin"}


class UserError(Exception):
    """A user that cannot be added: its role, its name taken, not the FAB auth manager."""


@dataclass(frozen=True)
class Login:
    username: str
    email: str
    first_name: str
    last_name: str
    roles: tuple[str, ...]
    active: bool


def require_fab() -> None:
    """Refuse unless Airflow's configured auth manager is FAB's: other ones never read its users."""
    from airflow.configuration import conf

    configured = conf.get("core", "auth_manager")
    if configured != FAB_AUTH_MANAGER:
        raise UserError(
            f"Airflow's auth manager is {configured}, not FAB's: logins per person are the team"
            " deployment's (docker-compose.yaml: AIRFLOW__CORE__AUTH_MANAGER); run this in one of"
            " its containers, e.g. `docker compose exec airflow-apiserver liftoff deployment user ...`"
        )


@contextmanager
def security_manager() -> Iterator[Any]:
    """FAB's security manager on the metadata database (the one ``airflow users`` uses)."""
    require_fab()
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder

    # FAB logs every step of its start at INFO: keep the command's own output readable.
    for name in ("flask_appbuilder", "airflow.providers.fab"):
        logging.getLogger(name).setLevel(logging.WARNING)
    with get_application_builder() as appbuilder:
        yield appbuilder.sm


def find_role(sm: Any, role: str) -> Any:
    """FAB's role for ``role`` (analyst, oncall, admin); the standard roles made if missing
    (before the API server's first start only Admin and Public exist)."""
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    found = sm.find_role(ROLES[role])
    if found is None:
        sm.sync_roles()  # what `airflow sync-perm` does
        found = sm.find_role(ROLES[role])
    if found is None:
        raise UserError(f"FAB has no role {ROLES[role]!r}")
    return found


def add_user(
    username: str,
    email: str,
    role: str,
    password: str,
    *,
    first_name: str = "",
    last_name: str = "",
    exists_ok: bool = False,
) -> bool:
    """Add the login ``username`` with ``role``; True if added. An existing one is an error,
    or with ``exists_ok`` left as it is (False): the first admin's start is idempotent."""
    if not username.strip():
        raise UserError("the user name is empty")
    if not password:
        raise UserError("the password is empty")
    if "@" not in email:
        raise UserError(f"not an e-mail address: {email!r}")
    with security_manager() as sm:
        fab_role = find_role(sm, role)
        if sm.find_user(username=username) is not None:
            if exists_ok:
                return False
            raise UserError(f"the user {username!r} exists already")
        if sm.find_user(email=email) is not None:
            raise UserError(f"another user has the e-mail address {email}")
        from airflow.providers.fab.auth_manager.security_manager.override import FabException

        try:
            sm.add_user(username, first_name or username, last_name or "-", email, fab_role, password)
        except FabException as failed:
            raise UserError(f"FAB did not add {username!r}: {failed.__cause__ or failed}") from None
        if sm.find_user(username=username) is None:
            raise UserError(f"FAB did not add {username!r}; see its log above")
    return True


def list_users() -> list[Login]:
    """Every login, its FAB roles and whether it is active, by user name."""
    with security_manager() as sm:
        users = sm.get_all_users()
        return sorted(
            (
                Login(
                    user.username,
                    user.email,
                    user.first_name,
                    user.last_name,
                    tuple(role.name for role in user.roles),
                    bool(user.active),
                )
                for user in users
            ),
            key=lambda login: login.username,
        )


def our_role(fab_roles: tuple[str, ...]) -> str:
    """Our name for a login's FAB roles (``analyst``...), else FAB's own names."""
    names = {fab: ours for ours, fab in ROLES.items()}
    return ", ".join(names.get(role, role) for role in fab_roles) or "-"
