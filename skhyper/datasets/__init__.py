"""Built-in dataset families, one module each; registered through entry points."""
