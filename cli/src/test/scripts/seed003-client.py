#!/usr/bin/env python3
"""Seed 003's client, unchanged in what it sends and reads, against `conveyor worker --from
'redis://HOST:6379?profile=seed003'`.

Each image is sent as the seed's Flask front sends it: RPUSH image_queue {"id": ID, "image":
base64(payload)}, then GET ID every 0.25 s until the result is there (a JSON list of {"label",
"probability"}, best first), then DEL ID. The payload is the image preprocessed into a float32
array of shape (1, H, W, 3), channels last, as the seed's Keras front makes it, or with --encoded
the image file's own bytes. Prints one JSON line per image: file, payload, id, predictions.

  cli/src/test/scripts/seed003-client.py --redis 127.0.0.1:6379 photos/*.jpg
  cli/src/test/scripts/seed003-client.py --caffe --size 224 photos/*.jpg      # Keras's ResNet50 preprocessing
"""
import argparse
import base64
import json
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

try:
    import numpy as np
    import redis
    from PIL import Image
except ImportError as missing:
    sys.exit(
        "seed003-client.py needs numpy, PIL and redis (%s): on Debian, apt-get install "
        "python3-numpy python3-pil python3-redis; elsewhere, pip install numpy pillow redis" % missing
    )

IMAGE_QUEUE = "image_queue"
CLIENT_SLEEP = 0.25


def prepare_image(path, size, caffe):
    """The seed's prepare_image: RGB, resized, as a (1, H, W, 3) float32 array."""
    image = Image.open(path)
    if image.mode != "RGB":
        image = image.convert("RGB")
    if image.size != (size, size):
        image = image.resize((size, size))
    a = np.asarray(image, dtype=np.float32)
    if caffe:
        # keras.applications.imagenet_utils.preprocess_input, mode "caffe": BGR, mean subtracted
        a = a[..., ::-1] - np.array([103.939, 116.779, 123.68], dtype=np.float32)
    else:
        # torchvision's ImageNet normalisation, what Conveyor's imagenet preset does
        a = (a / 255.0 - np.array([0.485, 0.456, 0.406], dtype=np.float32)) / np.array(
            [0.229, 0.224, 0.225], dtype=np.float32
        )
    return np.expand_dims(a, axis=0).astype(np.float32)


def predict(db, payload, timeout):
    """The seed's /predict: push the request, poll for its result, delete it once read."""
    k = str(uuid.uuid4())
    d = {"id": k, "image": base64.b64encode(payload).decode("utf-8")}
    db.rpush(IMAGE_QUEUE, json.dumps(d))
    deadline = time.time() + timeout
    while time.time() < deadline:
        output = db.get(k)
        if output is not None:
            db.delete(k)
            return k, json.loads(output.decode("utf-8"))
        time.sleep(CLIENT_SLEEP)
    raise TimeoutError("no result for %s within %s s" % (k, timeout))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", help="images to send")
    parser.add_argument("--redis", default="127.0.0.1:6379", help="HOST:PORT (default %(default)s)")
    parser.add_argument("--size", type=int, default=224, help="the model's input side (default 224)")
    parser.add_argument("--caffe", action="store_true", help="Keras's caffe preprocessing")
    parser.add_argument("--encoded", action="store_true", help="send the files' bytes instead")
    parser.add_argument("--clients", type=int, default=4, help="requests at once (default 4)")
    parser.add_argument("--timeout", type=float, default=60, help="seconds per request (default 60)")
    args = parser.parse_args()
    host, port = args.redis.rsplit(":", 1)
    db = redis.StrictRedis(host=host, port=int(port), db=0)

    def one(path):
        if args.encoded:
            with open(path, "rb") as f:
                payload = f.read()
        else:
            payload = prepare_image(path, args.size, args.caffe).tobytes()
        k, predictions = predict(db, payload, args.timeout)
        return {
            "file": path,
            "payload": "encoded" if args.encoded else "tensor",
            "id": k,
            "predictions": predictions,
        }

    with ThreadPoolExecutor(max_workers=args.clients) as pool:
        for line in pool.map(one, args.files):
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    sys.exit(main())
