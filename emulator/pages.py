"""The small HTML pages: Smartcar Connect consent and the simulated Tesla app."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape

from emulator.fleet import User, Vehicle

SCOPE_TEXT = {
    "read_vehicle_info": "Know make, model and year",
    "read_vin": "Read the VIN",
    "read_battery": "Read the high-voltage battery's state of charge and range",
    "read_charge": "Know whether the vehicle is charging, and its charge limit",
    "control_charge": "Start or stop charging and set the charge limit",
    "read_location": "Access the vehicle's location",
    "read_odometer": "Read the odometer",
    "read_security": "Know whether doors are locked",
}

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f3f5f9;
color:#1c2333;margin:0;display:flex;justify-content:center}
main{background:#fff;margin:2rem 1rem;padding:1.5rem 2rem;border-radius:14px;max-width:30rem;
width:100%;box-shadow:0 4px 18px rgba(20,30,60,.08)}
h1{font-size:1.35rem;margin:.2rem 0 1rem}h2{font-size:1rem;margin:1.2rem 0 .4rem}
.brand{color:#6b7387;font-size:.85rem;letter-spacing:.05em;text-transform:uppercase}
ul{padding-left:1.2rem}li{margin:.25rem 0}
label.vehicle{display:flex;gap:.6rem;align-items:center;padding:.6rem;border:1px solid #dde2ec;
border-radius:10px;margin:.4rem 0;cursor:pointer}
.vin{color:#6b7387;font-size:.8rem}
.actions{display:flex;gap:.8rem;margin-top:1.4rem}
button{font-size:1rem;padding:.65rem 1.2rem;border-radius:10px;border:0;cursor:pointer}
button.primary,button.approve{background:#2f6fed;color:#fff}
button.secondary{background:#e6e9f0;color:#1c2333}
.error{background:#fdecec;color:#a01818;padding:.6rem .8rem;border-radius:8px}
.ok{background:#e8f6ec;color:#17652f;padding:.6rem .8rem;border-radius:8px}
.card{border:1px solid #dde2ec;border-radius:10px;padding:.8rem;margin:.6rem 0}
.card.selected{border-color:#2f6fed;box-shadow:0 0 0 2px rgba(47,111,237,.2)}
"""


def page(title: str, body: str) -> str:
    """Wrap `body` in the emulator's page layout."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def error_page(title: str, message: str) -> str:
    """Render a plain error page."""
    return page(
        title,
        '<div class="brand">Smartcar Connect · emulator</div>'
        f'<h1>{escape(title)}</h1><p class="error" id="error">{escape(message)}</p>',
    )


NO_VEHICLES = "<p>No vehicles.</p>"


def consent_page(
    *,
    app_name: str,
    user: User,
    vehicles: Iterable[Vehicle],
    scopes: Mapping[str, bool],
    hidden: Mapping[str, str],
    error: str | None = None,
) -> str:
    """Render Connect's consent page: vehicle picker, permissions, Approve and Deny.

    ``scopes`` maps each permission to whether it is required (`required:`): a required one
    cannot be unticked.
    """
    hidden_inputs = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in hidden.items()
    )
    vehicle_rows = "".join(
        f'<label class="vehicle" for="vehicle-{escape(v.id)}">'
        f'<input type="checkbox" name="vehicle" id="vehicle-{escape(v.id)}" '
        f'value="{escape(v.id)}" checked>'
        f'<span>{escape(v.title())}<br><span class="vin">VIN {escape(v.vin)}</span></span></label>'
        for v in vehicles
    )
    scope_rows = "".join(
        f'<li data-scope="{escape(s)}"{" data-required" if required else ""}><label>'
        f'<input type="checkbox" name="permission" value="{escape(s)}" checked'
        f"{' disabled' if required else ''}> {escape(SCOPE_TEXT.get(s, s))}"
        f"{' (required)' if required else ''}</label></li>"
        for s, required in scopes.items()
    )
    notice = f'<p class="error" id="error">{escape(error)}</p>' if error else ""
    body = (
        '<div class="brand">Smartcar Connect · emulator</div>'
        f"<h1>{escape(app_name)} would like to connect to your vehicles</h1>"
        f'<p>Signed in as <strong id="account">{escape(user.name)}</strong>.</p>{notice}'
        '<form method="post" action="/oauth/authorize/decision" id="consent">'
        f'{hidden_inputs}<input type="hidden" name="permission_choice" value="1">'
        f"<h2>Choose vehicles</h2>{vehicle_rows or NO_VEHICLES}"
        f'<h2>{escape(app_name)} will be able to</h2><ul id="scopes">{scope_rows}</ul>'
        '<div class="actions">'
        '<button type="submit" class="primary" id="approve" name="decision" value="approve">'
        "Approve</button>"
        '<button type="submit" class="secondary" id="deny" name="decision" value="deny">'
        "Deny</button></div></form>"
    )
    return page("Smartcar Connect", body)


def tesla_app_page(
    vehicles: Iterable[Vehicle], *, selected_vin: str | None, domain: str = "smartcar.com"
) -> str:
    """Render the simulated Tesla app asking to add a third-party virtual key."""
    cards = []
    for v in vehicles:
        selected = " selected" if v.vin == selected_vin else ""
        if v.key_paired:
            action = '<p class="ok">Key added ✓</p>'
        else:
            action = (
                '<form method="post" action="/_ak/smartcar.com/approve">'
                f'<input type="hidden" name="vin" value="{escape(v.vin)}">'
                f'<button type="submit" class="approve" data-vin="{escape(v.vin)}">Approve</button>'
                "</form>"
            )
        cards.append(
            f'<div class="card{selected}" data-vin="{escape(v.vin)}">'
            f'<strong>{escape(v.title())}</strong><br><span class="vin">VIN {escape(v.vin)}</span>'
            f"{action}</div>"
        )
    body = (
        '<div class="brand">Tesla · emulator</div>'
        "<h1>Add Virtual Key</h1>"
        f"<p><strong>{escape(domain)}</strong> is requesting third-party access to your vehicle. "
        "Approving adds its virtual key, which lets it send commands such as starting "
        "and stopping charging.</p>"
        + ("".join(cards) or '<p id="none">No vehicle on this account needs a key.</p>')
    )
    return page("Tesla", body)


def tesla_approved_page(vehicle: Vehicle, *, domain: str = "smartcar.com") -> str:
    """Render the confirmation after approving a key."""
    body = (
        '<div class="brand">Tesla · emulator</div><h1>Key added</h1>'
        f'<p class="ok" id="approved" data-vin="{escape(vehicle.vin)}">'
        f"{escape(domain)} has been added as a third-party key to your "
        f"{escape(vehicle.title())}.</p><p>You can now return to the app you came from.</p>"
    )
    return page("Tesla", body)
