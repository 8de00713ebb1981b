"""The field worker's phone page (`/field/`): shares its position over the hub and answers video calls."""
