"""The data models: patients, the vocabulary, verdicts and evidence."""
