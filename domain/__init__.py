"""The order domain: lifecycle rules, wire models and the order itself. Pure: no Temporal, no I/O."""
