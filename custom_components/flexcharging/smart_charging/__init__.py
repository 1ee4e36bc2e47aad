"""Smart charging: plan each vehicle's charging on the user's prices and carry the plan out.

`policy.py` decides (pure), `estimates.py` works out levels and speeds and `departures.py` the
next departure (pure), `inputs.py` reads the car, prices and at-home from Home Assistant and
makes the plan, `alerts.py` tells the user (repairs, events, notifications) and hears the
answers, and `manager.py` runs it all.
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
