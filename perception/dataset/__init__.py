"""Dataset generation and export: posed RGB-D sequences with 2D/3D instance ground truth (ScanNet-like layout + COCO),
their reader, and synthetic box worlds for tests."""
