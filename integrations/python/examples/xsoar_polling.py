"""An XSOAR-style polling command: create the request once, then each run
asks the broker (a bounded long-poll) and either finishes with the verified
outcome or asks to be scheduled again — what Cortex XSOAR's
``ScheduledCommand`` does between runs.

    python xsoar_polling.py BROKER_URL TOKEN REQUEST.json

Prints one JSON line per run; exits 0 with the outcome, 2 if it expired
undecided.
"""

from __future__ import annotations

import json
import sys
import time

from countersign_broker import Broker, BrokerError


def poll_once(broker: Broker, request_id: str, interval: int) -> dict:
    """One scheduled run: the polling command's result. A broker that
    cannot be reached or answers 502/503/504 (restarting, behind a proxy)
    is asked again at the next run; any other error (a wrong token, no such
    request) ends it."""
    try:
        outcome = broker.outcome(request_id, wait=interval)
    except BrokerError as e:
        if not e.transient:
            raise
        return {"continue_to_poll": True, "status": "unknown", "error": str(e)}
    if not outcome.final:
        return {"continue_to_poll": True, "status": outcome.status}
    return {
        "continue_to_poll": False,
        "status": outcome.status,
        "approvers": [d["approver"]["id"] for d in outcome.decisions],
        "reasons": [d["reason"] for d in outcome.decisions],
    }


def main() -> int:
    url, token, path = sys.argv[1:4]
    broker = Broker(url, token)
    with open(path) as f:
        request = json.load(f)
    broker.create_request(request)
    while True:
        result = poll_once(broker, request["id"], interval=10)
        print(json.dumps(result), flush=True)
        if "error" in result:
            time.sleep(1)  # the next scheduled run
        if not result["continue_to_poll"]:
            return 2 if result["status"] == "expired" else 0


if __name__ == "__main__":
    sys.exit(main())
