"""Case state: the structs a stream folds into, and evolve/fold."""
