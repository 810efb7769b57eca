"""Poster and banner drafting: structured text and layout in, the prompt shape Z-Image renders
best out. No Qt."""
