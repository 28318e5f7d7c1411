"""Ultralytics 8.3.80 predates torch's switch to the dynamo ONNX exporter: importing this
module makes torch.onnx.export default to the TorchScript exporter again."""
import torch

_torch_onnx_export = torch.onnx.export


def _export_torchscript(*args, **kwargs):
    kwargs.setdefault("dynamo", False)
    return _torch_onnx_export(*args, **kwargs)


torch.onnx.export = _export_torchscript
