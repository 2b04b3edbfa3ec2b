"""``logsvc-manage --config-file F``: the API's admin chores.

db upgrade [REVISION]      create or migrate the schema (to the newest by default)
db downgrade REVISION      migrate down ("base": drop every table)
db current                 print the schema's revision
token create --project-id P [--role R ...] [--description D]
                           print a new token, once: only its hash is kept
token list                 the tokens' ids, projects and roles
token revoke ID            delete a token
"""

import json
import sys

from oslo_config import cfg
from oslo_log import log as oslo_logging
from sqlalchemy import delete, select

from api import auth, bodies, claims, db, migrate
from api.conf import database as database_conf
from api.models import Token
from logsvc import configcheck
from logsvc.exceptions import BadRequest, ConfigError

PROG = "logsvc-manage"


def _add_commands(subparsers) -> None:
    db_parser = subparsers.add_parser("db", help="the database schema")
    db_sub = db_parser.add_subparsers(dest="action", required=True)
    up = db_sub.add_parser("upgrade", help="create or migrate the schema")
    up.add_argument("revision", nargs="?", default="head")
    down = db_sub.add_parser("downgrade", help="migrate the schema down")
    down.add_argument("revision")
    db_sub.add_parser("current", help="print the schema's revision")

    token = subparsers.add_parser("token", help="tokens of the 'token' auth strategy")
    token_sub = token.add_subparsers(dest="action", required=True)
    create = token_sub.add_parser("create", help="make a token and print it, once")
    create.add_argument("--project-id", required=True, help="the project it acts for")
    create.add_argument(
        "--role", action="append", default=[], help="a role it holds (repeat for several)"
    )
    create.add_argument("--description", help="what or who it is for")
    token_sub.add_parser("list", help="list the tokens (never the tokens themselves)")
    revoke = token_sub.add_parser("revoke", help="delete a token")
    revoke.add_argument("id", type=int, help="the token's id, as 'token list' shows it")

    claim = subparsers.add_parser("claim", help="the locks that keep two actions off one log")
    claim_sub = claim.add_subparsers(dest="action", required=True)
    claim_sub.add_parser("list", help="list the claims and the process that holds each")
    clear = claim_sub.add_parser(
        "clear", help="remove an instance's claims (its holder must be gone)"
    )
    clear.add_argument("instance_id")
    clear.add_argument("log", nargs="?", help="only this log's claim")


command_opt = cfg.SubCommandOpt("command", title="Commands", handler=_add_commands)


def run(conf: cfg.ConfigOpts) -> int:
    """Do what the command line asks; the exit status."""
    database = db.Database.from_conf(conf)
    try:
        command = conf.command
        if command.name == "db":
            return _db(database, command)
        if command.name == "claim":
            return _claim(database, command)
        return _token(database, command)
    finally:
        database.dispose()


def _db(database: db.Database, command) -> int:
    if command.action == "upgrade":
        migrate.upgrade(database.engine, command.revision)
    elif command.action == "downgrade":
        migrate.downgrade(database.engine, command.revision)
    print(migrate.current(database.engine) or "base (no schema)")
    return 0


def _token(database: db.Database, command) -> int:
    with database.sessions() as session:
        if command.action == "create":
            roles = sorted({r.strip() for r in command.role if r.strip()})
            if any("," in r for r in roles):
                print(f"{PROG}: a role name cannot hold ','", file=sys.stderr)
                return 2
            try:  # the project id of a token ends up in URLs, as a registered tenant's
                bodies.tenant_id(command.project_id, "--project-id")
            except BadRequest as exc:
                print(f"{PROG}: {exc.message}", file=sys.stderr)
                return 2
            token = auth.new_token()
            row = Token(
                token_hash=auth.hash_token(token),
                project_id=command.project_id,
                roles=",".join(roles),
                description=command.description,
            )
            session.add(row)
            session.commit()
            print(token)
            print(
                f"token {row.id} for project {row.project_id}, roles: {row.roles or '(none)'}; "
                "it is shown this once",
                file=sys.stderr,
            )
        elif command.action == "list":
            rows = session.scalars(select(Token).order_by(Token.id))
            listing = [
                {
                    "id": r.id,
                    "project_id": r.project_id,
                    "roles": [x for x in r.roles.split(",") if x],
                    "description": r.description,
                    "created_at": r.created_at.isoformat(timespec="seconds") + "Z",
                }
                for r in rows
            ]
            print(json.dumps(listing, indent=2))
        else:
            deleted = session.execute(delete(Token).where(Token.id == command.id)).rowcount
            session.commit()
            if not deleted:
                print(f"{PROG}: no token {command.id}", file=sys.stderr)
                return 1
            print(f"token {command.id} revoked")
    return 0


def _claim(database: db.Database, command) -> int:
    if command.action == "list":
        with database.sessions() as session:
            rows = claims.listing(session)
            listing = [
                {
                    "instance_id": r.instance_id,
                    "log": r.name,
                    "action": r.action,
                    "holder": r.holder,
                    "started_at": r.started_at.isoformat(timespec="seconds") + "Z",
                    "expires_at": r.expires_at.isoformat(timespec="seconds") + "Z",
                }
                for r in rows
            ]
        print(json.dumps(listing, indent=2))
        return 0
    removed = claims.clear(database, command.instance_id, command.log)
    print(f"{removed} claim(s) removed")
    return 0


def main(argv: list[str] | None = None) -> int:
    conf = cfg.ConfigOpts()
    database_conf.register_opts(conf)
    oslo_logging.register_options(conf)
    conf.register_cli_opt(command_opt)
    try:
        configcheck.parse(conf, argv, PROG)
        configcheck.check_values(conf)
    except (cfg.Error, ValueError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"{PROG}: configuration error: {exc.message}", file=sys.stderr)
        return 2
    try:
        return run(conf)
    except Exception as exc:  # a database that is down, a revision that does not exist
        print(f"{PROG}: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
