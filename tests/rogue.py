"""A process holding the broker's credentials and nothing else (no instance's secret).

    python -m tests.rogue TRANSPORT_URL EXCHANGE MODE INSTANCE

It prints one JSON line: what it got back. Modes:

- ``command``: ask the instance's agent to publish its log ``small``, signed
  with a secret of its own; prints the agent's answer.
- ``replay``: the same, twice with the same nonce, signed with its own secret.
- ``heartbeat``: cast a heartbeat in the instance's name, signed with a secret of its own.
- ``garbage``: cast a heartbeat and call the agent with envelopes that are not
  envelopes, and with one larger than allowed.
- ``answer``: serve the instance's topic itself (the real agent stopped) and
  answer every call with a forged answer (unsigned, then wrongly signed),
  until it is killed.
"""

import json
import sys
import threading

import oslo_messaging
from oslo_config import cfg

from logsvc import bus
from logsvc.conf import messaging
from logsvc.signing import sign

SECRET = "the-rogue-does-not-know-the-secret"


def main(url: str, exchange: str, mode: str, instance: str) -> None:
    conf = cfg.ConfigOpts()
    messaging.register_opts(conf)
    conf([], project="rogue")
    conf.set_override("transport_url", url)
    conf.set_override("control_exchange", exchange)
    transport = bus.rpc_transport(conf)
    agent = oslo_messaging.get_rpc_client(
        transport, bus.target(bus.AGENT_TOPIC, instance), timeout=20
    )
    api = oslo_messaging.get_rpc_client(transport, bus.target(bus.API_TOPIC))
    out: dict = {}
    if mode in ("command", "replay"):
        body = json.dumps({"admin": True, "publish": True}).encode()
        path = "/v1/logs/small"
        headers = sign(SECRET, "POST", path, body, instance=instance)
        headers["Content-Type"] = "application/json"
        envelope = bus.request_envelope("POST", path, body, headers)
        out["answers"] = [agent.call({}, bus.DISPATCH, envelope=envelope)]
        if mode == "replay":
            out["answers"].append(agent.call({}, bus.DISPATCH, envelope=envelope))
    elif mode == "heartbeat":
        body = json.dumps(
            {"instance_id": instance, "datastore": "file", "version": "6.6.6", "logs": None}
        ).encode()
        path = bus.heartbeat_path(instance)
        headers = sign(SECRET, "POST", path, body, instance=instance)
        api.cast({}, bus.HEARTBEAT, envelope=bus.heartbeat_envelope(instance, body, headers))
        out["cast"] = True
    elif mode == "garbage":
        huge = bus.request_envelope("GET", "/v1/logs", b"x" * (1024 * 1024), {})
        out["answers"] = [
            agent.call({}, bus.DISPATCH, envelope="not an envelope"),
            agent.call({}, bus.DISPATCH, envelope={"method": "GET"}),
            agent.call({}, bus.DISPATCH, envelope=huge),
        ]
        api.cast({}, bus.HEARTBEAT, envelope=[1, 2, 3])
        api.cast({}, bus.HEARTBEAT, envelope=bus.heartbeat_envelope(instance, b"y" * 2**20, {}))
        out["cast"] = 2
    elif mode == "answer":
        forged = json.dumps({"log": {"name": "small", "published": 10**9}}).encode()

        class Forger:
            target = oslo_messaging.Target(version="1.0")
            calls = 0

            def dispatch(self, ctxt, envelope):
                Forger.calls += 1
                if Forger.calls % 2:
                    return {"status": 200, "body": bus._b64(forged), "headers": {}}
                headers = envelope["headers"]
                return bus.answer_envelope(SECRET, instance, headers, 200, forged)

        server = oslo_messaging.get_rpc_server(
            transport,
            bus.target(bus.AGENT_TOPIC, instance),
            [Forger()],
            access_policy=oslo_messaging.DefaultRPCAccessPolicy,
        )
        server.start()
        print(json.dumps({"serving": True}), flush=True)
        threading.Event().wait()
    print(json.dumps(out), flush=True)
    transport.cleanup()


if __name__ == "__main__":
    main(*sys.argv[1:5])
