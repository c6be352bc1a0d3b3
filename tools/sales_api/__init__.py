"""Demo CRM sales API: deterministic, optionally dirty sales data for LiftOff Data."""
