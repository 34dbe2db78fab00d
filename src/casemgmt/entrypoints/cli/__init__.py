"""The casemgmt command line: serve, worker, demo, admin, due-date and more."""
