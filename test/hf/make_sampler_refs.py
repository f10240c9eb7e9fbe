# Writes test/fixtures/hf-pipelines/sampler.json (never run by the tests): transformers' own logits processors
# (RepetitionPenalty, Temperature, TopK, TopP, MinP, in generate's order) applied to seeded random logits, for
# test/text/generate.test.ts to compare forwardpass's sampler with. Run: python test/hf/make_sampler_refs.py
import json, os
import torch
from transformers.generation.logits_process import (LogitsProcessorList, RepetitionPenaltyLogitsProcessor, TemperatureLogitsWarper,
                                                     TopKLogitsWarper, TopPLogitsWarper, MinPLogitsWarper)

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
g = torch.Generator().manual_seed(3)
settings = [
    {'repetitionPenalty': 1.3},
    {'temperature': 0.7, 'topK': 4},
    {'temperature': 1.5, 'topP': 0.8},
    {'minP': 0.1},
    {'repetitionPenalty': 0.8, 'temperature': 0.9, 'topK': 8, 'topP': 0.9, 'minP': 0.05},
]
cases = []
for i in range(6):
    logits = (torch.randn(1, 16, generator=g) * 2).float()
    seen = torch.randint(0, 16, (1, 5), generator=g)
    for s in settings:
        procs = LogitsProcessorList()
        if 'repetitionPenalty' in s: procs.append(RepetitionPenaltyLogitsProcessor(penalty=s['repetitionPenalty']))
        if 'temperature' in s: procs.append(TemperatureLogitsWarper(s['temperature']))
        if 'topK' in s: procs.append(TopKLogitsWarper(top_k=s['topK']))
        if 'topP' in s: procs.append(TopPLogitsWarper(top_p=s['topP']))
        if 'minP' in s: procs.append(MinPLogitsWarper(min_p=s['minP']))
        out = procs(seen, logits.clone())[0]
        cases.append({'logits': logits[0].tolist(), 'seen': seen[0].tolist(), 'settings': s,
                      'out': [None if v == float('-inf') else v for v in out.tolist()]})
with open(os.path.join(root, 'test', 'fixtures', 'hf-pipelines', 'sampler.json'), 'w') as f:
    json.dump({'transformers': __import__('transformers').__version__, 'note': 'out: null = -inf (masked)', 'cases': cases}, f)
print(len(cases), 'cases')
