"""lantian's analyses: one module per analysis, registered by CLI name."""
