#!/usr/bin/python3
"""Makes the reference outputs that core's tests compare the `imagenet` preset against.

For each photo-like fixture, runs torchvision's evaluation transform up to the last uint8 step:
    Image.open(f).convert("RGB") -> Resize(256) -> CenterCrop(224)
and saves the 224x224 result as a lossless PNG beside it (NAME.imagenet-ref.png). ToTensor and
Normalize are exact affine maps of those uint8 values, so the tests apply them from their
definition. Needs Debian's python3-torchvision and python3-pil.

    /usr/bin/python3 core/src/test/scripts/make-preprocess-reference.py core/src/test/resources/images
"""
import pathlib
import sys

from PIL import Image
from torchvision import transforms

folder = pathlib.Path(sys.argv[1])
transform = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224)])
names = [
    "plasma-640x480.jpg",
    "plasma-1600x1200.jpg",
    "plasma-300x500.png",
    "plasma-333x257.jpg",
    "detail-800x600.jpg",
    "detail-2200x1400.jpg",
]
for name in names:
    with Image.open(folder / name) as image:
        reference = transform(image.convert("RGB"))
    target = folder / (name.rsplit(".", 1)[0] + ".imagenet-ref.png")
    reference.save(target, optimize=True)
    print(f"{target}: {reference.size}")
