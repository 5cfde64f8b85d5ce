"""int8 quantization: calibration crops, ONNX Runtime static QDQ, PyTorch PT2E, MNN offline int8."""
