"""Store the emulator's client id and secret as Application Credentials of a config folder.

Run by scripts/develop before Home Assistant starts; it leaves existing credentials alone.
"""

import json
from pathlib import Path
import sys

from emulator import DEFAULT_APP

STORE = {
    "version": 1,
    "minor_version": 1,
    "key": "application_credentials",
    "data": {
        "items": [
            {
                "id": "flexcharging_emulator",
                "domain": "flexcharging",
                "auth_domain": "flexcharging_emulator",
                "client_id": DEFAULT_APP.client_id,
                "client_secret": DEFAULT_APP.client_secret,
                "name": "Smartcar emulator",
            }
        ]
    },
}


def main(config_dir: str) -> None:
    """Write .storage/application_credentials unless it exists."""
    path = Path(config_dir) / ".storage" / "application_credentials"
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(STORE, indent=2))
    print(f"Stored the emulator's Smartcar credentials in {path}")


if __name__ == "__main__":
    main(sys.argv[1])
