"""SimGAN (Shrivastava et al. 2017) training, one job per module.

losses      patch-wise adversarial cross-entropy, self-regularization psi, D accuracy
history     the history buffer of refined images (b/2 fresh + b/2 old per D step)
data        endless reshuffled batch streams from the shards (loader workers), probe images
trainer     one step of each kind, the schedule (pretrain R, pretrain D, K_g/K_d rounds), EMA of R
distributed torchrun/DDP (gloo on CPU, nccl on CUDA)
checkpoint  atomic checkpoints tied to a params hash
probe       grid, mean |R(x)-x|, D accuracy and appearance on fixed probe images
stats       appearance statistics (brightness, contrast, sharpness, noise)
grid        the synthetic | refined | |diff| | real PNG
runlog      MLflow logging (main rank)
io          models/refiner-<domain>.pt: save_refiner, load_refiner (the REFINE stage's entry point)
run         train_refiner(params, domain): the stage's whole logic
"""
