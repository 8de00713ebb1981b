"""Simulated GB/T 28181 cameras for demos and tests (`wall simulate cameras --count N`)."""
