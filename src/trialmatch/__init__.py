"""trialmatch: pre-screen patients for clinical trials with explained, three-valued verdicts."""

__version__ = "0.1.0"
