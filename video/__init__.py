"""Video: aiortc sessions and the GB/T 28181 camera relay."""
