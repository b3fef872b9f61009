"""The BHXH insurance gateway: its wire format and an HTTP client."""

from checkin.gateway.client import (
    GatewayAuthError,
    GatewayClient,
    GatewayError,
    GatewayUnavailable,
)
from checkin.gateway.protocol import CardAnswer, CardQuery, NewCard

__all__ = [
    "CardAnswer",
    "CardQuery",
    "GatewayAuthError",
    "GatewayClient",
    "GatewayError",
    "GatewayUnavailable",
    "NewCard",
]
