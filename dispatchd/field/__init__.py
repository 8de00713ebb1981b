"""Live field state: position pipeline, live worker state (memory or Redis), trails, patrol statistics."""
