"""``[mysql]``: how the agent reaches the local MySQL or MariaDB server, and where its logs are
(guestagent/datastores/mysql.py)."""

from oslo_config import cfg

mysql_group = cfg.OptGroup("mysql", title="The local MySQL or MariaDB server")
mysql_opts = [
    cfg.HostAddressOpt("host", default="127.0.0.1", help="Server address."),
    cfg.PortOpt("port", default=3306, help="Server port."),
    cfg.StrOpt("unix_socket", help="Connect by this socket instead of host and port."),
    cfg.StrOpt("user", default="root", help="Account allowed to SET GLOBAL."),
    cfg.StrOpt("password", default="", secret=True, help="That account's password."),
    cfg.StrOpt(
        "log_dir",
        default="/var/log/mysql",
        help="Directory for general.log and slow_query.log; the server writes there.",
    ),
    cfg.StrOpt(
        "error_log",
        help="The server's error log; by default the agent asks the server (@@log_error).",
    ),
    cfg.FloatOpt("connect_timeout", default=5.0, min=0.1, help="Seconds to connect."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(mysql_group)
    conf.register_opts(mysql_opts, mysql_group)


def list_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    return [(mysql_group, mysql_opts)]
