"""A Logic Apps-style wait: the request names a callback URL, and this
receiver (standing in for the HTTP Webhook action) accepts the broker's
POST, verifies it with the broker's JWKS, then verifies each decision in it
with its approver's JWKS — all offline, with joserfc.

    python webhook_receiver.py BROKER_URL TOKEN REQUEST.json

Listens on a free loopback port, puts its URL in the request's
``callback``, creates the request, and prints the verified outcome as one
JSON line when it arrives (answering 200, so the broker stops retrying).
"""

from __future__ import annotations

import base64
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from countersign_broker import Broker, verify_callback, verify_decision


def main() -> int:
    url, token, path = sys.argv[1:4]
    broker = Broker(url, token)
    broker_keys = broker.broker_jwks()
    arrived: list[dict] = []
    done = threading.Event()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            try:
                outcome = verify_callback(body, broker_keys, request_id=request["id"])
            except Exception as e:
                self.send_response(400)
                self.end_headers()
                print(json.dumps({"refused": str(e)}), file=sys.stderr, flush=True)
                return
            # Deduplicate by outcome id: delivery is at least once.
            if not any(a["outcome_id"] == outcome["outcome_id"] for a in arrived):
                arrived.append(outcome)
            self.send_response(200)
            self.end_headers()
            done.set()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with open(path) as f:
        request = json.load(f)
    request["callback"] = f"http://127.0.0.1:{server.server_port}/countersign"
    broker.create_request(request)
    print(json.dumps({"waiting": request["id"]}), flush=True)
    if not done.wait(timeout=120):
        print(json.dumps({"timeout": request["id"]}), flush=True)
        return 1
    outcome = arrived[0]
    verified = []
    for compact in outcome["decisions"]:
        # Unverified, only to know whose keys to fetch; verified next.
        named = json.loads(base64.urlsafe_b64decode(compact.split(".")[1] + "=="))
        keys = broker.approver_jwks(named["approver"]["id"])
        verified.append(verify_decision(compact, keys, outcome["request_id"]))
    print(
        json.dumps(
            {
                "outcome_id": outcome["outcome_id"],
                "status": outcome["status"],
                "approvers": [d["approver"]["id"] for d in verified],
            }
        ),
        flush=True,
    )
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
