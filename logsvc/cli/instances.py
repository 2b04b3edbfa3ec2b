"""instance-list, instance-show, instance-register, instance-delete (admins)."""

import re

from cliff.command import Command
from cliff.lister import Lister
from cliff.show import ShowOne

from logsvc.cli.output import cells
from logsvc.exceptions import BadRequest, LogsvcError
from logsvc.safetext import printable

COLUMNS = ("id", "name", "tenant_id", "datastore", "agent_url", "task_state", "last_heartbeat")
#: Fields of a registration as the API's errors name them, and what gives them here.
_OPTIONS = {
    "tenant_id": "--tenant-id",
    "agent_url": "--agent-url",
    "shared_secret": "secret (--shared-secret-file FILE)",
}
#: A field's name in an error; not the API's own option of that name ("[agent] shared_secret").
_FIELD = re.compile(r"(?<!\] )\b(" + "|".join(_OPTIONS) + r")\b")


class InstanceList(Lister):
    """The instances the caller may see."""

    def take_action(self, args):
        instances = self.app.client.instance_list()
        return COLUMNS, [cells(args, (i.get(c) for c in COLUMNS)) for i in instances]


class _OneInstance(ShowOne):
    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("instance", help="the instance's id")
        return parser

    @staticmethod
    def shown(args, instance: dict):
        fields = sorted(instance)
        return cells(args, fields), cells(args, (instance[f] for f in fields))


class InstanceShow(_OneInstance):
    """One instance: its tenant, datastore, agent and state."""

    def take_action(self, args):
        return self.shown(args, self.app.client.instance_show(args.instance))


class InstanceRegister(_OneInstance):
    """Register (or update) an instance and its agent (admin)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--tenant-id", required=True, help="the project that owns it")
        parser.add_argument("--datastore", required=True, help="mysql, postgresql or file")
        parser.add_argument("--agent-url", required=True, help="http://host:8780")
        parser.add_argument("--name", help="a name for people")
        parser.add_argument(
            "--shared-secret-file",
            metavar="FILE",
            help="a file holding the agent's own shared secret "
            "(default: the API's [agent] shared_secret)",
        )
        return parser

    def take_action(self, args):
        secret = _secret(args.shared_secret_file) if args.shared_secret_file else None
        try:
            instance = self.app.client.instance_register(
                args.instance,
                tenant_id=args.tenant_id,
                datastore=args.datastore,
                agent_url=args.agent_url,
                name=args.name,
                shared_secret=secret,
            )
        except BadRequest as exc:  # it names the API's fields: name our options
            raise BadRequest(_FIELD.sub(lambda m: _OPTIONS[m[1]], exc.message)) from None
        return self.shown(args, instance)


def _secret(path: str) -> str:
    """The secret held in the file of --shared-secret-file; an error naming the option else."""
    where = f"--shared-secret-file {printable(path, 200)}"
    try:
        with open(path, encoding="utf-8") as f:
            secret = f.read().strip()
    except OSError as exc:
        raise LogsvcError(f"{where}: cannot read it: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise LogsvcError(f"{where}: the file is not UTF-8 text") from None
    if not secret:
        raise LogsvcError(f"{where}: the file is empty")
    return secret


class InstanceDelete(Command):
    """Forget an instance (its published logs stay in the object store)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("instance", help="the instance's id")
        return parser

    def take_action(self, args):
        self.app.client.instance_delete(args.instance)
        return 0
