"""Tests of the Smartcar v3 emulator (no Home Assistant involved)."""
