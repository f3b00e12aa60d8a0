"""Fine-tuning and pretraining: settings, the training loop, checkpoints, augmentation."""
