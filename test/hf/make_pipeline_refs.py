# Writes the pipeline references of test/pipeline/pipeline.test.ts (never run by the tests): transformers' own
# pipelines on ../shared/hf/models/{bert,gpt2} and on two tiny random BERT heads saved here with the shared bert's
# WordPiece tokenizer (test/fixtures/hf-pipelines/bert-fill-mask, bert-ner). Run: python test/hf/make_pipeline_refs.py
# (torch 2.13 cpu, transformers 5.x). Deterministic: fixed seeds, one thread, eager attention.
import json, os, shutil
import torch
from transformers import (BertConfig, BertForMaskedLM, BertForTokenClassification, AutoTokenizer, AutoModel, pipeline)

torch.manual_seed(0)
torch.set_num_threads(1)
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
shared = os.path.join(root, '..', 'shared', 'hf', 'models')
out_dir = os.path.join(root, 'test', 'fixtures', 'hf-pipelines')  # not under fixtures/hf, whose folders all hold reference.json
bert = os.path.join(shared, 'bert')
texts = ['The quick brown fox jumps over the lazy dog.', 'A small test, with numbers 12 and 345!', 'hello world']
ref = {'versions': {'torch': torch.__version__, 'transformers': __import__('transformers').__version__}, 'texts': texts}

# text-classification: every label's score (softmax), best first
clf = pipeline('text-classification', model=bert, top_k=None)
ref['text_classification'] = {'model': 'shared/bert', 'results': [clf(t) for t in texts]}

# feature-extraction: mean pooling over the attention mask of the base model's last_hidden_state, then L2 normalize
tok = AutoTokenizer.from_pretrained(bert)
base = AutoModel.from_pretrained(bert, attn_implementation='eager').eval()
emb = []
with torch.no_grad():
    for t in texts:
        enc = tok(t, return_tensors='pt')
        h = base(**enc).last_hidden_state
        m = enc['attention_mask'].unsqueeze(-1).float()
        v = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
        emb.append(torch.nn.functional.normalize(v, p=2, dim=1)[0].tolist())
fe = pipeline('feature-extraction', model=bert)
ref['feature_extraction'] = {'model': 'shared/bert', 'mean_normalized': emb, 'raw_first_text_first_token_first8': fe(texts[0])[0][0][:8]}

def tiny(cls, name, **kw):
    torch.manual_seed(7 if name == 'bert-fill-mask' else 8)
    cfg = BertConfig(vocab_size=1000, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                     max_position_embeddings=64, initializer_range=0.2, **kw)
    m = cls._from_config(cfg, attn_implementation='eager').eval()
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    m.save_pretrained(d, safe_serialization=True)
    for f in ['tokenizer.json', 'tokenizer_config.json']:
        shutil.copy(os.path.join(bert, f), os.path.join(d, f))
    return d

mlm = tiny(BertForMaskedLM, 'bert-fill-mask')
fm = pipeline('fill-mask', model=mlm, top_k=5)
masked = ['The quick brown [MASK] jumps.', 'hello [MASK] world']
ref['fill_mask'] = {'model': 'test/fixtures/hf-pipelines/bert-fill-mask', 'texts': masked, 'results': [fm(t) for t in masked]}

labels = ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC']
ner = tiny(BertForTokenClassification, 'bert-ner', num_labels=5, id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)})
tc = pipeline('token-classification', model=ner)
ref['token_classification'] = {'model': 'test/fixtures/hf-pipelines/bert-ner', 'results': [[{k: (float(v) if k == 'score' else v) for k, v in e.items()} for e in tc(t)] for t in texts]}

gen = pipeline('text-generation', model=os.path.join(shared, 'gpt2'))
ref['text_generation'] = {'model': 'shared/gpt2', 'prompt': 'The quick brown fox', 'max_new_tokens': 10,
                          'result': gen('The quick brown fox', max_new_tokens=10, do_sample=False)}

with open(os.path.join(out_dir, 'pipelines.json'), 'w') as f:
    json.dump(ref, f, indent=1)
print('wrote', os.path.join(out_dir, 'pipelines.json'))
