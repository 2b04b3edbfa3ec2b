"""The read deadlines of both daemons' HTTP servers (``[api]`` and ``[agent]``).

One definition for both: the API's gunicorn worker and the agent's cheroot
server give a client the same fixed total time (logsvc/readdeadline.py).
"""

from oslo_config import cfg


def client_deadline_opts(header_note: str = "") -> list[cfg.Opt]:
    """The two deadlines; `header_note` ends the help of the first."""
    return [
        cfg.FloatOpt(
            "client_header_timeout",
            default=10.0,
            min=0.5,
            max=300.0,
            help="Seconds a client has to send a request's line and headers, in all (not "
            "per read): a slower one is answered 408 and its thread freed." + header_note,
        ),
        cfg.FloatOpt(
            "client_body_timeout",
            default=10.0,
            min=0.5,
            max=300.0,
            help="Seconds a client has, from the end of its headers, to send the request "
            "body, in all (not per read): a slower one is refused with 400.",
        ),
    ]
