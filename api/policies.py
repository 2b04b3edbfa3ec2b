"""Who may do what: oslo.policy rules with defaults in code.

Every log action, and reading a log through the API, is for the instance's
owner (its project) or an admin;
registering instances is for admins; only admins see logs the agent does not
expose (the API asks the agent as an admin only for callers this allows).
Operators override any rule in a policy.yaml (``[oslo_policy] policy_file``);
``etc/policy.yaml.sample`` lists the defaults.
"""

import math
import time
from typing import TYPE_CHECKING

from oslo_config import cfg
from oslo_policy import policy

from logsvc.exceptions import Forbidden, LogsvcError

if TYPE_CHECKING:
    from api.auth import Caller

ADMIN = "rule:context_is_admin"
ADMIN_OR_OWNER = "rule:admin_or_owner"

LOG_LIST = "logsvc:log:list"
LOG_SHOW = "logsvc:log:show"
LOG_ENABLE = "logsvc:log:enable"
LOG_DISABLE = "logsvc:log:disable"
LOG_PUBLISH = "logsvc:log:publish"
LOG_DISCARD = "logsvc:log:discard"
LOG_READ = "logsvc:log:read"
LOG_UNEXPOSED = "logsvc:log:see_unexposed"
INSTANCE_SHOW = "logsvc:instance:show"
INSTANCE_LIST_ALL = "logsvc:instance:list_all_projects"
INSTANCE_REGISTER = "logsvc:instance:register"
INSTANCE_DELETE = "logsvc:instance:delete"

_BASE = [
    policy.RuleDefault("context_is_admin", "role:admin", description="Who is an admin."),
    policy.RuleDefault(
        "admin_or_owner",
        "rule:context_is_admin or project_id:%(project_id)s",
        description="An admin, or a member of the project that owns the instance.",
    ),
]


def _log_rule(name: str, method: str, path: str, what: str) -> policy.DocumentedRuleDefault:
    return policy.DocumentedRuleDefault(
        name=name,
        check_str=ADMIN_OR_OWNER,
        description=what,
        operations=[
            {"method": method, "path": path},
            {"method": method, "path": "/v1.0/{tenant_id}/instances/{instance_id}/log"},
        ],
    )


_LOG = "/v1/instance/{instance_id}/log"
_RULES = [
    _log_rule(LOG_LIST, "GET", _LOG, "List an instance's logs."),
    _log_rule(LOG_SHOW, "POST", _LOG, "Show one log (a body with only its name)."),
    _log_rule(LOG_ENABLE, "POST", _LOG, "Enable a USER log."),
    _log_rule(LOG_DISABLE, "POST", _LOG, "Disable a USER log."),
    _log_rule(LOG_PUBLISH, "POST", _LOG, "Publish a log into the object store."),
    _log_rule(LOG_DISCARD, "POST", _LOG, "Discard what was published of a log."),
    policy.DocumentedRuleDefault(
        name=LOG_READ,
        check_str=ADMIN_OR_OWNER,
        description="Read a log's published bytes through the API (the read route), or its "
        "objects as Swift temp URLs; a log the agent does not expose also needs "
        "logsvc:log:see_unexposed.",
        operations=[
            {"method": "GET", "path": _LOG + "/{log_name}/data"},
            {"method": "GET", "path": _LOG + "/{log_name}/objects"},
            {
                "method": "GET",
                "path": "/v1.0/{tenant_id}/instances/{instance_id}/log/{log_name}/data",
            },
        ],
    ),
    policy.DocumentedRuleDefault(
        name=LOG_UNEXPOSED,
        check_str=ADMIN,
        description="See and act on logs that the agent's guest_log_exposed_logs does not expose.",
        operations=[
            {"method": "GET", "path": _LOG},
            {"method": "POST", "path": _LOG},
            {"method": "GET", "path": _LOG + "/{log_name}/data"},
        ],
    ),
    policy.DocumentedRuleDefault(
        name=INSTANCE_SHOW,
        check_str=ADMIN_OR_OWNER,
        description="See an instance; an instance that fails this rule is answered "
        "as one that does not exist.",
        operations=[
            {"method": "GET", "path": "/v1/instance/{instance_id}"},
            {"method": "GET", "path": "/v1/instance"},
            {"method": "GET", "path": "/v1.0/{tenant_id}/instances/{instance_id}"},
            {"method": "GET", "path": "/v1.0/{tenant_id}/instances"},
        ],
    ),
    policy.DocumentedRuleDefault(
        name=INSTANCE_LIST_ALL,
        check_str=ADMIN,
        description="List the instances of every project.",
        operations=[{"method": "GET", "path": "/v1/instance"}],
    ),
    policy.DocumentedRuleDefault(
        name=INSTANCE_REGISTER,
        check_str=ADMIN,
        description="Register an instance (or change its registration).",
        operations=[{"method": "PUT", "path": "/v1/instance/{instance_id}"}],
    ),
    policy.DocumentedRuleDefault(
        name=INSTANCE_DELETE,
        check_str=ADMIN,
        description="Forget an instance.",
        operations=[{"method": "DELETE", "path": "/v1/instance/{instance_id}"}],
    ),
]


def list_rules() -> list[policy.RuleDefault]:
    """The ``oslo.policy.policies`` entry point ``logsvc.api``."""
    return _BASE + _RULES


#: Seconds between two looks at whether the operator's policy files changed.
POLICY_CHECK_INTERVAL = 1.0


class _Enforcer(policy.Enforcer):
    """oslo.policy's enforcer, looking at the policy files at most once a second.

    oslo.policy loads the rules before every check: it looks the policy file
    and each policy directory up in the configuration's directories (and, with
    no policy file, fails to find it anew each time). Under bench/load.py that
    was three quarters of the checks' time and an eighth of a loaded worker's
    (py-spy), an instance-list checking each of the tenant's instances. A
    changed file still takes effect, within `POLICY_CHECK_INTERVAL`.
    """

    _looked = -math.inf
    clock = staticmethod(time.monotonic)

    def load_rules(self, force_reload: bool = False) -> None:
        now = self.clock()
        if force_reload or now - self._looked >= POLICY_CHECK_INTERVAL:
            super().load_rules(force_reload)
            self._looked = now

    def clear(self) -> None:
        super().clear()
        self._looked = -math.inf


def make_enforcer(conf: cfg.ConfigOpts) -> policy.Enforcer:
    """An enforcer with the defaults in code and the operator's policy file over them."""
    enforcer = _Enforcer(conf)
    enforcer.register_defaults(list_rules())
    return enforcer


def allowed(enforcer: policy.Enforcer, caller: "Caller", rule: str, project_id: str) -> bool:
    """Whether `rule` allows the caller on a resource of the project `project_id`.

    The one policy check of the API: every other question of who may do
    what is asked through it (or through `authorize`, which raises).
    """
    return enforcer.authorize(rule, {"project_id": project_id}, caller.creds(), do_raise=False)


def authorize(
    enforcer: policy.Enforcer,
    caller: "Caller",
    rule: str,
    project_id: str,
    refusal: LogsvcError | None = None,
) -> None:
    """Nothing when `rule` allows the caller on `project_id`'s resource; else `refusal`.

    `refusal` is Forbidden by default; a lookup passes the error of a resource
    that does not exist, so that a refusal tells nothing of what exists.
    """
    if not allowed(enforcer, caller, rule, project_id):
        raise refusal or Forbidden(f"the policy does not allow {rule} on this instance")
