"""Smart charging: plan each vehicle's charging on the user's prices and carry the plan out."""

from .manager import (
    RETRY_AFTER,
    Decision,
    SmartChargingManager,
    SmartChargingState,
    SmartSettings,
    SmartStatus,
    next_ready_by,
    plan_signal,
)

__all__ = [
    "RETRY_AFTER",
    "Decision",
    "SmartChargingManager",
    "SmartChargingState",
    "SmartSettings",
    "SmartStatus",
    "next_ready_by",
    "plan_signal",
]
