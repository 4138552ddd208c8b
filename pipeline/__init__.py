"""simgan-pipeline: SimGAN (Shrivastava et al., CVPR 2017) as a reproducible data pipeline."""
__version__ = "0.1.0"
