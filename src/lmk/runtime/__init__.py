"""Runtimes: turn a model file into a Runner (numpy batch -> crop_normalized points).

torch, ORT and MNN each live in their own module; ORT and MNN never import torch or training code.
"""
