"""The broker's HTTP API (assets/openapi/countersign-backend.yaml), with the
standard library's HTTP client only."""

from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Mapping

from .verify import VerificationError, verify_decision

#: The longest single long-poll the broker holds (seconds).
MAX_WAIT = 60


class BrokerError(Exception):
    """The broker answered with an error, or could not be reached."""

    def __init__(self, message: str, status: int | None = None, lasting: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self._lasting = lasting

    @property
    def transient(self) -> bool:
        """Worth asking again: unreachable, or a 502/503/504 (a broker
        restarting behind a proxy, or one that could not record a change).
        A TLS failure (an untrusted certificate, a name that does not match)
        is not: asking again gives the same answer."""
        if self._lasting:
            return False
        return self.status is None or self.status in (429, 502, 503, 504)


def _segment(value: str) -> str:
    """An id as one URL path segment (ids may hold spaces, # or ?)."""
    return urllib.parse.quote(value, safe="")


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

    def __init__(
        self,
        url: str,
        token: str,
        timeout: float = 90.0,
        cafile: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """``cafile``: a PEM file of the CA that issued an https:// broker's
        certificate, when it is not in the system's trust store (or pass
        your own ``ssl_context``; ``SSL_CERT_FILE`` works too)."""
        self.url = url.rstrip("/")
        self._token = token
        self._timeout = timeout
        if ssl_context is None and cafile is not None:
            ssl_context = ssl.create_default_context(cafile=cafile)
        self._ssl = ssl_context

    def _call(self, method: str, path: str, body: Any = None, auth: bool = True) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("accept", "application/json")
        if data is not None:
            request.add_header("content-type", "application/json")
        if auth:
            request.add_header("authorization", f"Bearer {self._token}")
        try:
            with urllib.request.urlopen(
                request, timeout=self._timeout, context=self._ssl
            ) as answer:
                return json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as e:
            try:
                message = json.loads(e.read()).get("error", e.reason)
            except Exception:
                message = e.reason
            raise BrokerError(f"{method} {path}: {e.code} {message}", e.code) from e
        except OSError as e:
            reason = e.reason if isinstance(e, urllib.error.URLError) else e
            if isinstance(reason, ssl.SSLError):
                raise BrokerError(
                    f"{method} {path}: TLS with {self.url} failed: {reason}; if its certificate "
                    "comes from your own CA, pass cafile= (or set SSL_CERT_FILE)",
                    lasting=True,
                ) from e
            raise BrokerError(f"{method} {path}: cannot reach {self.url}: {e}") from e

    def create_request(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Creates a containment request (idempotent for the same content)."""
        return self._call("POST", "/v1/requests", dict(request))

    def request(self, request_id: str, wait: int = 0) -> dict[str, Any]:
        """The request with its status and receipts; ``wait`` holds the answer
        up to that many seconds (at most 60) for its outcome."""
        wait = max(0, min(int(wait), MAX_WAIT))
        return self._call("GET", f"/v1/requests/{_segment(request_id)}?wait={wait}")

    def approver_jwks(self, approver: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/approvers/{_segment(approver)}/jwks")

    def broker_jwks(self) -> dict[str, Any]:
        """The broker's own key, which signs callbacks."""
        return self._call("GET", "/.well-known/jwks.json", auth=False)

    def outcome(self, request_id: str, wait: int = 0) -> Outcome:
        """The request's status now (or after a long-poll of ``wait``
        seconds), every accepted decision verified against its approver's
        enrolled keys. A final status the verified decisions do not back —
        approved without one verified approval (two distinct approvers for
        a dual approval), denied without a verified denial — raises
        :class:`VerificationError`: the broker's word alone is not an
        outcome."""
        body = self.request(request_id, wait)
        decisions = []
        for receipt in body.get("decisions", []):
            if receipt.get("status") == "rejected" or "jws" not in receipt:
                continue
            jwks = self.approver_jwks(receipt["approver"])
            decisions.append(verify_decision(receipt["jws"], jwks, request_id))
        status = body["status"]
        approvers = {d["approver"]["id"] for d in decisions if d["decision"] != "deny"}
        needed = 2 if body.get("tier") == "dual_approval" else 1
        if status == "approved" and len(approvers) < needed:
            raise VerificationError(
                f"{request_id} is reported approved, but {len(approvers)} verified approver(s) back it ({needed} needed)"
            )
        if status == "denied" and not any(d["decision"] == "deny" for d in decisions):
            raise VerificationError(f"{request_id} is reported denied without a verified denial")
        return Outcome(request_id, status, decisions)

    def wait_for_outcome(self, request_id: str, timeout: float) -> Outcome:
        """Long-polls until the request has its outcome or ``timeout``
        seconds passed; a broker that is briefly unreachable (restarting) is
        asked again."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                outcome = self.outcome(request_id, wait=max(1, min(int(left), MAX_WAIT)))
            except BrokerError as e:
                if not e.transient or time.monotonic() >= deadline:
                    raise
                time.sleep(0.5)
                continue
            if outcome.final or time.monotonic() >= deadline - 1:
                return outcome
