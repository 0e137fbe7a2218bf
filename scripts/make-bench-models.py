#!/usr/bin/python3
"""Makes the ImageNet models Conveyor is benchmarked with: ResNet-50, SqueezeNet 1.1 and
MobileNetV2, with their real torchvision architectures and seeded random weights (no pretrained
weights can be downloaded here). Exported to ONNX with a dynamic batch axis.

Needs Debian's python3-torch and python3-torchvision:
    apt-get install python3-torch python3-torchvision
    /usr/bin/python3 scripts/make-bench-models.py models/bench
"""
import pathlib
import sys

import torch
import torchvision

MODELS = {
    "resnet50": torchvision.models.resnet50,
    "squeezenet1_1": torchvision.models.squeezenet1_1,
    "mobilenet_v2": torchvision.models.mobilenet_v2,
}

out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "models/bench")
out.mkdir(parents=True, exist_ok=True)
wanted = sys.argv[2:] or list(MODELS)
for name in wanted:
    torch.manual_seed(0)
    model = MODELS[name](weights=None).eval()
    example = torch.randn(1, 3, 224, 224)
    target = out / f"{name}.onnx"
    torch.onnx.export(
        model,
        example,
        str(target),
        input_names=["image"],
        output_names=["logits"],
        dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
        opset_version=13,
    )
    print(f"{target}: {target.stat().st_size / 1e6:.1f} MB")
