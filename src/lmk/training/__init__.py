"""Training: losses, config, the loop (train_one_epoch / evaluate), DDP set-up."""
