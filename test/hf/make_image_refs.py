# Writes the image-classification references of test/pipeline/image.test.ts (never run by the tests): a tiny random
# ViTForImageClassification with a ViTImageProcessor (resize 32x32 bilinear, rescale 1/255, normalize) saved into
# test/fixtures/hf-pipelines/vit-cls, a seeded RGBA image (image.npy, uint8 [37, 45, 4]), the processor's
# pixel_values and transformers' image-classification pipeline result. Run: python test/hf/make_image_refs.py
import json, os
import numpy as np
import torch
from PIL import Image
from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor, pipeline

torch.manual_seed(11)
torch.set_num_threads(1)
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
d = os.path.join(root, 'test', 'fixtures', 'hf-pipelines', 'vit-cls')
os.makedirs(d, exist_ok=True)
labels = ['cat', 'dog', 'fox', 'owl', 'eel', 'ant']
cfg = ViTConfig(image_size=32, patch_size=8, num_channels=3, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                intermediate_size=64, initializer_range=0.2, num_labels=6, id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)})
model = ViTForImageClassification._from_config(cfg, attn_implementation='eager').eval()
model.save_pretrained(d, safe_serialization=True)
proc = ViTImageProcessor(size={'height': 32, 'width': 32}, image_mean=[0.5, 0.4, 0.3], image_std=[0.2, 0.25, 0.3])
proc.save_pretrained(d)
rng = np.random.default_rng(5)
rgba = rng.integers(0, 256, size=(37, 45, 4), dtype=np.uint8)
np.save(os.path.join(d, 'image.npy'), rgba)
img = Image.fromarray(rgba, 'RGBA')
pv = proc(img.convert('RGB'), return_tensors='np')['pixel_values']
np.save(os.path.join(d, 'pixel_values.npy'), pv.astype(np.float32))
clf = pipeline('image-classification', model=d, image_processor=proc)
res = clf(img, top_k=6)
with open(os.path.join(d, 'image.json'), 'w') as f:
    json.dump({'processor': type(proc).__name__, 'image': 'image.npy (RGBA, converted to RGB by dropping alpha)', 'pixel_values': 'pixel_values.npy',
               'result_top6': [{'label': r['label'], 'score': float(r['score'])} for r in res]}, f, indent=1)
print('wrote', d, type(proc).__name__)
