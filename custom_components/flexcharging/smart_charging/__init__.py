"""Smart charging: plan each vehicle's charging on the user's prices and carry the plan out.

`policy.py` decides (its session transitions in `transitions.py`) and `watchdog.py` says when a problem is over or a plan falls short (pure),
`estimates.py` works out levels and speeds and `departures.py` the next departure (pure),
`solar.py` and `site.py` are the sun's and the house's rules and `shared.py` a shared charger's
(pure), `inputs.py` reads the car, prices and at-home from Home Assistant and makes the plan,
`house.py` reads the power sensors and sets the charging current, `sharing.py` makes a shared
charger's cars decide together, `alerts.py` tells the user (repairs, events, notifications)
and hears the answers, `engine.py` runs it all and `manager.py` adds what the user asks.
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
