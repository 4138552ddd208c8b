"""Networks: the SimGAN refiner and discriminators (estimator nets live beside them)."""
