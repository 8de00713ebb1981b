"""Rules applied to cases: routing to departments and duplicate suggestion."""
