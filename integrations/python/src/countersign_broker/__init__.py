"""A client for the Countersign approval broker, for SOAR playbooks.

A playbook creates a containment request, waits for its outcome — by
long-polling (``wait_for_outcome``, the way Cortex XSOAR's polling commands
wait) or by receiving the broker's callback (``verify_callback``, the way a
Logic Apps HTTP Webhook action waits) — and verifies every signature offline
with the JWKS: the broker's for the outcome, each approver's for their
decision. Nothing here trusts the broker's word for who approved.
"""

from .client import Broker, BrokerError, Outcome
from .verify import VerificationError, verify_callback, verify_decision

__all__ = [
    "Broker",
    "BrokerError",
    "Outcome",
    "VerificationError",
    "verify_callback",
    "verify_decision",
]
