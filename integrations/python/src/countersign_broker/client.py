"""The broker's HTTP API (assets/openapi/countersign-backend.yaml), with the
standard library's HTTP client only."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Mapping

from .verify import verify_decision

#: The longest single long-poll the broker holds (seconds).
MAX_WAIT = 60


class BrokerError(Exception):
    """The broker answered with an error, or could not be reached."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Outcome:
    """A request's status when waiting ended, with its decisions verified."""

    request_id: str
    #: pending, awaiting_second_approval, approved, denied or expired
    status: str
    #: Each accepted decision's verified claims (approver, decision, reason...).
    decisions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def final(self) -> bool:
        return self.status in ("approved", "denied", "expired")


class Broker:
    """One broker, by URL and bearer token."""

    def __init__(self, url: str, token: str, timeout: float = 90.0) -> None:
        self.url = url.rstrip("/")
        self._token = token
        self._timeout = timeout

    def _call(self, method: str, path: str, body: Any = None, auth: bool = True) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("accept", "application/json")
        if data is not None:
            request.add_header("content-type", "application/json")
        if auth:
            request.add_header("authorization", f"Bearer {self._token}")
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as answer:
                return json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as e:
            try:
                message = json.loads(e.read()).get("error", e.reason)
            except Exception:
                message = e.reason
            raise BrokerError(f"{method} {path}: {e.code} {message}", e.code) from e
        except OSError as e:
            raise BrokerError(f"{method} {path}: cannot reach {self.url}: {e}") from e

    def create_request(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Creates a containment request (idempotent for the same content)."""
        return self._call("POST", "/v1/requests", dict(request))

    def request(self, request_id: str, wait: int = 0) -> dict[str, Any]:
        """The request with its status and receipts; ``wait`` holds the answer
        up to that many seconds (at most 60) for its outcome."""
        return self._call("GET", f"/v1/requests/{request_id}?wait={min(wait, MAX_WAIT)}")

    def approver_jwks(self, approver: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/approvers/{approver}/jwks")

    def broker_jwks(self) -> dict[str, Any]:
        """The broker's own key, which signs callbacks."""
        return self._call("GET", "/.well-known/jwks.json", auth=False)

    def outcome(self, request_id: str, wait: int = 0) -> Outcome:
        """The request's status now (or after a long-poll of ``wait``
        seconds), every accepted decision verified against its approver's
        enrolled keys."""
        body = self.request(request_id, wait)
        decisions = []
        for receipt in body.get("decisions", []):
            if receipt.get("status") == "rejected" or "jws" not in receipt:
                continue
            jwks = self.approver_jwks(receipt["approver"])
            decisions.append(verify_decision(receipt["jws"], jwks, request_id))
        return Outcome(request_id, body["status"], decisions)

    def wait_for_outcome(self, request_id: str, timeout: float) -> Outcome:
        """Long-polls until the request has its outcome or ``timeout``
        seconds passed; a broker that is briefly unreachable (restarting) is
        asked again."""
        deadline = time.monotonic() + timeout
        while True:
            left = int(max(0, deadline - time.monotonic()))
            try:
                outcome = self.outcome(request_id, wait=min(left, MAX_WAIT))
            except BrokerError as e:
                if e.status is not None or time.monotonic() >= deadline:
                    raise
                time.sleep(0.5)
                continue
            if outcome.final or time.monotonic() >= deadline:
                return outcome
