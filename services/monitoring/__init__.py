"""The monitoring service: online monitoring devices, their readings, exceedance episodes and coverage (非现场执法, RULES §10)."""
