"""masa: sign language recognition from pose keypoints (MASA, Zhao et al., TCSVT 2024)."""

__version__ = "0.1.0"
