"""Closed-lost win-back: why a deal was lost, whether and when to try again, who should, and what to say."""
