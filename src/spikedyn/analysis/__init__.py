"""Figures and tables of the seeds from recorded runs (matplotlib, headless).

Import the parts you need; the library's other parts never import this one.
"""
