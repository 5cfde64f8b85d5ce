"""Checks of .mnn files on emulated ARM CPUs (qemu user mode), where phones run other kernels."""
