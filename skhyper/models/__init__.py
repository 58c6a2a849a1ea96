"""Built-in model families, one module each; registered through entry points."""
