"""The refine stage: synthetic shards through a trained refiner -> annotated, checked refined shards."""
