"""Custom integrations (this repository holds one: flexcharging)."""
