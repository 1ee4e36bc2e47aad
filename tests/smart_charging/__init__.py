"""Tests of smart charging's pure parts (no Home Assistant)."""
