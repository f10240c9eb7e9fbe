// forwardpass.nn: PyTorch-named modules (layers, containers, attention with a KV cache) and the reference
// models built from config.json (sequential stacks, GPT-2 style decoder, BERT style encoder) with generation, and
// the Hugging Face families (llama.ts, gpt2.ts, ...).
export { Module, type ForwardHook, type HookHandle } from './module.js';
export type { LoadStateDictResult, StateDictInput } from './state-dict.js';
export { Linear, type LinearOptions } from './linear.js';
export { Conv1d, Conv2d, type Conv1dModuleOptions, type Conv2dModuleOptions } from './conv.js';
export { BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm, RMSNorm } from './norm.js';
export { GELU, LeakyReLU, ReLU, ReLU6, Sigmoid, SiLU, Softmax, Tanh } from './activation.js';
export { AvgPool2d, MaxPool2d } from './pooling.js';
export { Dropout, Flatten, Identity } from './utility.js';
export { ModuleList, Sequential } from './container.js';
export { Embedding } from './embedding.js';
export { attendHeads, CausalSelfAttention, KVCache, LayerKV, mergeHeads, SelfAttention, selfAttend, splitHeads, type AttendOptions } from './attention.js';
export { FieldReader, type ConfiguredModel, type LayerConfig, type ModelConfig } from './models/config.js';
export { LAYER_TYPES, layerFromConfig, SequentialModel, sequentialFromConfig } from './models/sequential.js';
export { GPT, GPTBlock, GPTMLP, gptConfigFromJson, gptFromConfig, type GPTConfig } from './models/gpt.js';
export { BERT, BERTLayer, bertConfigFromJson, bertFromConfig, type BERTConfig } from './models/bert.js';
export { loadModelFromBytes, modelFromConfig } from './models/from-config.js';
export { CharTokenizer } from './models/tokenizer.js';
export { argmaxFirst, generate, generateBatch, generateSteps, isCausalLM, type CausalLM, type GenerateOptions, type GenerateStep } from './models/generate.js';
export { makeSampler, samplingSettings, processLogits, applyRepetitionPenalty, topKMask, topPMask, minPMask, softmax as softmaxProbs, drawIndex, type SamplingOptions } from './models/sampling.js';
export { applyRope, ropeInvFreq, ropeTables, ROPE_TYPES, type RopeParams, type RopeType } from './rope.js';
export { HfModel, hfModelConfig, type HfLayout, type HfOutputs } from './models/hf-base.js';
export { LlamaAttention, LlamaDecoderLayer, LlamaForCausalLM, LlamaMLP, LlamaModel, LlamaRMSNorm, repeatKv, type DecoderForwardOptions, type LlamaConfig } from './models/llama.js';
export { Conv1D, GPT2Attention, GPT2Block, GPT2LMHeadModel, GPT2MLP, GPT2Model, type GPT2Config } from './models/gpt2.js';
export { GPTNeoXAttention, GPTNeoXForCausalLM, GPTNeoXLayer, GPTNeoXMLP, GPTNeoXModel, type GPTNeoXConfig } from './models/gpt-neox.js';
export { BertEmbeddings, BertFamilyModel, BertLayer as HfBertLayer, BertModel, BertPooler, BertSelfAttention, robertaPositionIds, TiedDecoder, type BertFamilyConfig, type BertHead, type EncoderAct } from './models/bert-family.js';
export { DistilBertModel, type DistilBertConfig } from './models/distilbert.js';
export { ViTModel, ViTEmbeddings, ViTLayer, type ViTConfig } from './models/vit.js';
