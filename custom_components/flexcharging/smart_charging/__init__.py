"""Smart charging: plan each vehicle's charging on the user's prices and carry the plan out.

`policy.py` decides (pure), `estimates.py` works out levels and speeds (pure), `inputs.py`
reads prices and at-home from Home Assistant, and `manager.py` runs it all.
"""

from .manager import SmartChargingManager, plan_signal
from .model import Decision, Hold, SmartChargingState, SmartSettings, SmartStatus

__all__ = [
    "Decision",
    "Hold",
    "SmartChargingManager",
    "SmartChargingState",
    "SmartSettings",
    "SmartStatus",
    "plan_signal",
]
