"""ODIN (Jain et al., CVPR 2024) in plain PyTorch: one model for 2D images and multi-view RGB-D scenes."""
