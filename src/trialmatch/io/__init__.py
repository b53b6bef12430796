"""Reading and writing files: YAML/JSON with positions, the CSV layout and row splitter,
safe atomic output, text made printable."""
