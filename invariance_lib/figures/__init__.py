"""The book's figure functions (matplotlib).

Modules: ``images`` (images, orbits, matrices), ``histories`` (Section 4 figures).
"""
