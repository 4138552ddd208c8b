"""Downstream estimators (gaze, hand pose): the proof that refined data helps on real images.

data      labelled splits -> in-memory arrays and regression targets (labels apart for real_train)
augment   vectorized batch augmentation
model     build / save / load estimators, with config checks
train     the equal-budget training loop and batched prediction
evaluate  predictions -> the paper's measures (crop undone for hands)
metrics   angular / joint errors and their cumulative curves
outputs   DVC metrics (JSON) and plots (CSV) files
"""
