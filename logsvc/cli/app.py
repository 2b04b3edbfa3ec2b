"""The ``logsvc`` application: global options, the client, tracing, errors."""

import logging
import sys

from cliff.app import App
from cliff.commandmanager import CommandManager

import logsvc
from logsvc.cli import settings as cli_settings

LOG = logging.getLogger(__name__)


def _commands() -> dict[str, type]:
    from logsvc.cli import instances, logs, save, status, tail, trace

    return {
        "log-list": logs.LogList,
        "log-show": logs.LogShow,
        "log-enable": logs.LogEnable,
        "log-disable": logs.LogDisable,
        "log-publish": logs.LogPublish,
        "log-discard": logs.LogDiscard,
        "log-tail": tail.LogTail,
        "log-save": save.LogSave,
        "instance-list": instances.InstanceList,
        "instance-show": instances.InstanceShow,
        "instance-register": instances.InstanceRegister,
        "instance-delete": instances.InstanceDelete,
        "trace show": trace.TraceShow,
        "trace-show": trace.TraceShow,  # the name of earlier releases
        "status": status.Status,
    }


class LogsvcApp(App):
    """Database guest logs: list, switch, publish, tail and save them."""

    def __init__(self) -> None:
        manager = CommandManager("logsvc.cli", convert_underscores=False)
        for name, command in _commands().items():
            manager.add_command(name, command)
        super().__init__(
            description=self.__doc__,
            version=logsvc.__version__,
            command_manager=manager,
            deferred_help=True,
        )
        self._client = None
        self._settings = None

    def build_option_parser(self, description, version, argparse_kwargs=None):
        # No abbreviations: log-save's --file must not be read as --file-root.
        argparse_kwargs = {**(argparse_kwargs or {}), "allow_abbrev": False}
        parser = super().build_option_parser(description, version, argparse_kwargs)
        api = parser.add_argument_group("the logsvc API")
        api.add_argument("--url", help="the API's URL, e.g. http://127.0.0.1:8779 ($LOGSVC_URL)")
        api.add_argument("--token", help="your token ($LOGSVC_TOKEN)")
        api.add_argument(
            "--timeout",
            metavar="SECONDS",
            help="how long one call to the API may take in all, answer included "
            "($LOGSVC_TIMEOUT; default 600, as a publish takes its time; "
            "for status: 10)",
        )
        api.add_argument(
            "--config",
            metavar="FILE",
            help=f"settings file ($LOGSVC_CONFIG, default {cli_settings.DEFAULT_FILE})",
        )
        api.add_argument(
            "--profile",
            metavar="HMAC_KEY",
            help="trace the command with OSProfiler and print the trace id",
        )
        store = parser.add_argument_group(
            "the object store (given, log-tail and log-save read logs straight from it; "
            "without, through the API)"
        )
        store.add_argument("--file-root", help="the local directory backend ($LOGSVC_FILE_ROOT)")
        for flag, help_ in (
            ("--os-auth-url", "Swift or Keystone auth URL ($OS_AUTH_URL)"),
            ("--os-auth-version", "1 (tempauth) or 3 (Keystone)"),
            ("--os-username", "($OS_USERNAME)"),
            ("--os-password", "($OS_PASSWORD)"),
            ("--os-project-name", "($OS_PROJECT_NAME)"),
            ("--os-user-domain-name", "($OS_USER_DOMAIN_NAME)"),
            ("--os-project-domain-name", "($OS_PROJECT_DOMAIN_NAME)"),
            ("--os-application-credential-id", "($OS_APPLICATION_CREDENTIAL_ID)"),
            ("--os-application-credential-secret", "($OS_APPLICATION_CREDENTIAL_SECRET)"),
            ("--os-region-name", "($OS_REGION_NAME)"),
            ("--os-storage-url", "a storage URL to use with --os-auth-token"),
            ("--os-auth-token", "a token valid for --os-storage-url"),
        ):
            store.add_argument(flag, help=help_)
        parser.add_argument(
            "--trace-store",
            help="where traces are kept, for trace show "
            "($LOGSVC_TRACE_STORE: redis://host:6379 or file:///dir)",
        )
        return parser

    def configure_logging(self) -> None:
        super().configure_logging()
        # swiftclient logs each failed request (a curl line, headers, an HTML
        # body) at ERROR; the error we raise from it says it in one line.
        logging.getLogger("swiftclient").setLevel(logging.CRITICAL)
        if self.options.debug:
            # --debug: every call to the API and the object store on stderr (ours
            # only: other libraries' debug lines may carry credentials).
            handler = logging.StreamHandler(self.stderr)
            handler.setLevel(logging.DEBUG)
            handler.setFormatter(logging.Formatter("DEBUG %(name)s: %(message)s"))
            logging.getLogger("logsvc").addHandler(handler)

    def initialize_app(self, argv):
        if not argv:  # no interactive shell: a command is expected
            self.print_help_if_requested()
            self.parser.print_help(sys.stderr)
            raise SystemExit(2)

    @property
    def settings(self) -> cli_settings.Settings:
        if self._settings is None:
            self._settings = cli_settings.resolve(self.options)
        return self._settings

    @property
    def client(self):
        if self._client is None:
            from logsvc.client.api import DEFAULT_TIMEOUT, Client

            extra = None
            if self.options.profile:
                from osprofiler import profiler, web

                profiler.init(self.options.profile)
                extra = web.get_trace_id_headers
            self._client = Client(
                self.settings.url(),
                self.settings.get("token"),
                storage=self.settings.storage(),
                timeout=self.settings.timeout(DEFAULT_TIMEOUT),
                headers=extra,
            )
        return self._client

    def clean_up(self, cmd, result, err):
        if self.options.profile and self._client is not None:
            from osprofiler import profiler

            from logsvc.cli.trace import profiled

            trace = profiler.get()
            if trace is not None:
                self.stderr.write(profiled(self.settings.get("trace_store"), trace.get_base_id()))


def main(argv: list[str] | None = None) -> int:
    return LogsvcApp().run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
