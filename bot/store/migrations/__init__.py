"""Each backend's schema as numbered migrations, one module per backend."""
