"""Tests of the Smartcar v3 API client (no Home Assistant)."""
