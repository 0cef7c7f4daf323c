"""Automation services: `automations` (definitions, events, trigger URLs), `runs` (start, cancel, recover,
prune) and `schedules` (cron)."""
