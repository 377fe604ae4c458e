"""Headers -> fields: aliases and words, the customer key, the row's country, presets, a mapping file, what the values tell."""
