"""Writes test/fixtures/hf/<name>/: tiny random checkpoints of the Hugging Face families that ../shared/hf has no
checkpoint for, saved by transformers' own save_pretrained, with reference outputs computed by transformers
(eager attention, float32, one thread). Offline and deterministic; the tests never run it.

    python3 -m venv /tmp/hfvenv && /tmp/hfvenv/bin/pip install <torch cpu wheel> transformers==5.18.0 safetensors numpy
    /tmp/hfvenv/bin/python test/hf/make_fixtures.py
"""
import json
import os
import shutil
import sys

import numpy as np
import torch
import transformers as tf

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'hf')
T, B, V = 8, 2, 128
torch.set_num_threads(1)

DEC = dict(vocab_size=V, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
           num_key_value_heads=2, max_position_embeddings=64, initializer_range=0.2, bos_token_id=0, eos_token_id=0,
           pad_token_id=0)
ENC = dict(vocab_size=V, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
           max_position_embeddings=32, initializer_range=0.2)


def rope(**kw):
    return dict(rope_parameters=dict(rope_theta=10000.0, **kw))


# name: (config class, model class, config kwargs, options)
CASES = {
    'mistral': (tf.MistralConfig, tf.MistralForCausalLM, dict(DEC, head_dim=8, sliding_window=4), {}),
    'qwen3': (tf.Qwen3Config, tf.Qwen3ForCausalLM, dict(DEC, head_dim=16, tie_word_embeddings=True), {'shards': True}),
    'qwen2-sliding': (tf.Qwen2Config, tf.Qwen2ForCausalLM, dict(DEC, use_sliding_window=True, sliding_window=3, max_window_layers=1), {}),
    'phi3': (tf.Phi3Config, tf.Phi3ForCausalLM, dict(DEC, sliding_window=5, partial_rotary_factor=0.5, resid_pdrop=0.0, embd_pdrop=0.0, attention_dropout=0.0), {}),
    'gemma': (tf.GemmaConfig, tf.GemmaForCausalLM, dict(DEC, head_dim=16), {'dtype': torch.bfloat16}),
    'gpt-neox': (tf.GPTNeoXConfig, tf.GPTNeoXForCausalLM, dict(vocab_size=V, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, max_position_embeddings=64, initializer_range=0.2, rotary_pct=0.25, bos_token_id=0, eos_token_id=0), {}),
    'gpt-neox-sequential': (tf.GPTNeoXConfig, tf.GPTNeoXForCausalLM, dict(vocab_size=V, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, max_position_embeddings=64, initializer_range=0.2, rotary_pct=0.5, use_parallel_residual=False, tie_word_embeddings=True, bos_token_id=0, eos_token_id=0), {}),
    'llama-linear-v4': (tf.LlamaConfig, tf.LlamaForCausalLM, dict(DEC, attention_bias=True, mlp_bias=True, **rope(rope_type='linear', factor=2.0)), {'v4_config': True, 'dtype': torch.float16}),
    'llama-dynamic': (tf.LlamaConfig, tf.LlamaForCausalLM, dict(DEC, max_position_embeddings=6, **rope(rope_type='dynamic', factor=2.0)), {}),
    'llama-yarn': (tf.LlamaConfig, tf.LlamaForCausalLM, dict(DEC, **rope(rope_type='yarn', factor=4.0, original_max_position_embeddings=16)), {}),
    'llama-llama3': (tf.LlamaConfig, tf.LlamaForCausalLM, dict(DEC, max_position_embeddings=128, **rope(rope_type='llama3', factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0, original_max_position_embeddings=64)), {}),
    'roberta': (tf.RobertaConfig, tf.RobertaForSequenceClassification, dict(ENC, num_labels=3, pad_token_id=1, type_vocab_size=1), {'pad': 1}),
    'xlm-roberta-mlm': (tf.XLMRobertaConfig, tf.XLMRobertaForMaskedLM, dict(ENC, pad_token_id=1, type_vocab_size=1), {'pad': 1}),
    'xlm-roberta-token': (tf.XLMRobertaConfig, tf.XLMRobertaForTokenClassification, dict(ENC, num_labels=5, pad_token_id=1, type_vocab_size=1), {'pad': 1}),
    'bert-mlm': (tf.BertConfig, tf.BertForMaskedLM, dict(ENC, pad_token_id=0), {'token_types': True}),
    'bert-token': (tf.BertConfig, tf.BertForTokenClassification, dict(ENC, num_labels=4, pad_token_id=0, hidden_act='gelu_new'), {}),
    'bert-base': (tf.BertConfig, tf.BertModel, dict(ENC, pad_token_id=0), {'token_types': True}),
    'distilbert-cls': (tf.DistilBertConfig, tf.DistilBertForSequenceClassification, dict(vocab_size=V, dim=32, hidden_dim=64, n_layers=2, n_heads=4, max_position_embeddings=32, initializer_range=0.2, num_labels=2, pad_token_id=0), {}),
    'distilbert-token': (tf.DistilBertConfig, tf.DistilBertForTokenClassification, dict(vocab_size=V, dim=32, hidden_dim=64, n_layers=2, n_heads=4, max_position_embeddings=32, initializer_range=0.2, num_labels=3, pad_token_id=0), {}),
    'distilbert-mlm': (tf.DistilBertConfig, tf.DistilBertForMaskedLM, dict(vocab_size=V, dim=32, hidden_dim=64, n_layers=2, n_heads=4, max_position_embeddings=32, initializer_range=0.2, pad_token_id=0), {}),
    'vit-base': (tf.ViTConfig, tf.ViTModel, dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, image_size=16, patch_size=4, num_channels=3, initializer_range=0.2), {'vision': True}),
}


def save_npy(d, name, arr):
    np.save(os.path.join(d, name + '.npy'), arr)
    return {'file': name + '.npy', 'dtype': str(arr.dtype), 'shape': list(arr.shape)}


def build(name, seed):
    cfg_cls, model_cls, kw, opts = CASES[name]
    torch.manual_seed(seed)
    model = model_cls._from_config(cfg_cls(**kw), attn_implementation='eager').eval()
    noised = []
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if p.numel() > 1 and torch.all(p == p.flatten()[0]):
                p.add_(0.05 * torch.randn_like(p))
                noised.append(pname)
        if 'dtype' in opts:  # round the weights to the stored dtype, so the float32 reference sees exactly them
            for p in model.parameters():
                p.copy_(p.to(opts['dtype']).float())
    return model, noised, opts


def greedy(model, prompt, n):
    out = model.generate(torch.tensor([prompt]), attention_mask=torch.ones(1, len(prompt), dtype=torch.long), do_sample=False, num_beams=1,
                         max_new_tokens=n, min_new_tokens=n, use_cache=True, eos_token_id=None, pad_token_id=0,
                         output_logits=True, return_dict_in_generate=True)
    logits = torch.stack(out.logits)[:, 0]
    top2 = torch.topk(logits, 2, dim=-1).values
    return out.sequences[0, len(prompt):].tolist(), float((top2[:, 0] - top2[:, 1]).min())


def make(name, seed):
    model, noised, opts = build(name, seed)
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    save_model = model if 'dtype' not in opts else build(name, seed)[0].to(opts['dtype'])
    save_model.save_pretrained(d, max_shard_size='40KB' if opts.get('shards') else '50GB')
    if opts.get('v4_config'):  # rewrite config.json in transformers 4 style: rope_theta + rope_scaling, torch_dtype
        path = os.path.join(d, 'config.json')
        c = json.load(open(path))
        rp = c.pop('rope_parameters')
        c['rope_theta'] = rp.pop('rope_theta')
        c['rope_scaling'] = {'type': rp.pop('rope_type'), **rp}
        c['torch_dtype'] = c.pop('dtype')
        json.dump(c, open(path, 'w'), indent=2, sort_keys=True)
    g = torch.Generator().manual_seed(seed + 1)
    ref = {'name': name, 'architecture': type(model).__name__, 'model_type': model.config.model_type, 'seed': seed,
           'versions': {'torch': torch.__version__, 'transformers': tf.__version__}, 'noised_parameters': noised,
           'stored_dtype': str(opts.get('dtype', torch.float32)).replace('torch.', ''), 'inputs': {}, 'outputs': {}}
    with torch.no_grad():
        if opts.get('vision'):
            pixels = torch.randn(B, 3, 16, 16, generator=g)
            ref['inputs']['pixel_values'] = save_npy(d, 'pixel_values', pixels.numpy())
            out = model(pixel_values=pixels, output_hidden_states=True)
        else:
            pad = opts.get('pad', 0)
            ids = torch.randint(5, V, (B, T), generator=g)
            mask = torch.ones(B, T, dtype=torch.long)
            ids[1, -2:] = pad
            mask[1, -2:] = 0
            ref['inputs']['input_ids'] = save_npy(d, 'input_ids', ids.int().numpy())
            ref['inputs']['attention_mask'] = save_npy(d, 'attention_mask', mask.int().numpy())
            kwargs = dict(input_ids=ids, attention_mask=mask, output_hidden_states=True)
            if opts.get('token_types'):
                types = torch.zeros(B, T, dtype=torch.long)
                types[1, 3:6] = 1
                ref['inputs']['token_type_ids'] = save_npy(d, 'token_type_ids', types.int().numpy())
                kwargs['token_type_ids'] = types
            out = model(**kwargs)
            ref['valid_positions'] = {'row0': list(range(T)), 'row1': list(range(T - 2))}
        base = model.base_model(**{k: v for k, v in kwargs.items() if k != 'output_hidden_states'}) if not opts.get('vision') else model.base_model(pixel_values=pixels)
        if hasattr(out, 'logits'):
            ref['outputs']['logits'] = save_npy(d, 'logits', out.logits.float().numpy())
        ref['outputs']['last_hidden_state'] = save_npy(d, 'last_hidden_state', base.last_hidden_state.numpy())
        if getattr(base, 'pooler_output', None) is not None:
            ref['outputs']['pooler_output'] = save_npy(d, 'pooler_output', base.pooler_output.numpy())
        ref['outputs']['hidden_states'] = save_npy(d, 'hidden_states', torch.stack(out.hidden_states).numpy())
    if isinstance(model, tf.GenerationMixin) and 'CausalLM' in type(model).__name__:
        for attempt in range(20):
            prompt = torch.randint(5, V, (4,), generator=g).tolist()
            new_ids, margin = greedy(model, prompt, 10)
            if margin >= 1e-3:
                break
        ref['generation'] = {'prompt_ids': prompt, 'new_ids': new_ids, 'max_new_tokens': 10, 'min_top1_top2_margin': margin,
                             'settings': 'generate(do_sample=False, num_beams=1, use_cache=True, eos_token_id=None)'}
    json.dump(ref, open(os.path.join(d, 'reference.json'), 'w'), indent=1)
    size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    print(f'{name}: {type(model).__name__}, {size // 1024} KB', file=sys.stderr)


if __name__ == '__main__':
    names = sys.argv[1:] or list(CASES)
    for i, n in enumerate(CASES):
        if n in names:
            make(n, 2000 + i)
