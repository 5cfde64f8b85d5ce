"""Export: checkpoint -> ONNX (simplified) -> MNN, with metadata inside and beside every file."""
