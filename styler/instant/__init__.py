"""Instant mode: any painting as the style in one feed-forward pass.

VGG19 encodes the photo, a whitening-colouring transform (Li et al. 2017) gives its
features the painting's mean and covariance, and a small decoder trained only to
invert VGG19 (no style images in its training) paints the result. Levels run coarse to
fine, so the deep level lays down strokes and the shallow ones the colours and texture.
"""
