"""The functional core: events, case state, regimes, calendars. Pure, synchronous, no I/O."""
