"""Reengage: finds the people who drop off a funnel and brings them back."""
