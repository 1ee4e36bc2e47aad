"""Tests for the FlexCharging integration."""
