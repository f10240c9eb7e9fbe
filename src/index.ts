// forwardpass: the public entry point. Wires the CPU backend into the device registry and re-exports the API.
import { cpuBackend } from './backends/cpu/index.js';
import { registerBackend } from './tensor/device.js';

registerBackend(cpuBackend);

export { Tensor, isTensor, type NestedArray } from './tensor/tensor.js';
export type { DType, DataArray, StorageArray } from './tensor/dtype.js';
export { DTYPES, dtypeBytes, f16ToF32, f32ToF16, f16ArrayToF32, f32ArrayToF16, promoteTypes } from './tensor/dtype.js';
export { numel, broadcastShapes, contiguousStrides, type Shape } from './tensor/shape.js';
export { tensor, fromStorage, zeros, ones, full, arange, rand, randn, randint, makeRng, type CreateOptions } from './tensor/creation.js';
export { scope, scopeSync, keep } from './tensor/scope.js';
export { registerBackend, getBackend, hasBackend, listBackends, setDefaultDevice, getDefaultDevice } from './tensor/device.js';
export type { Backend, MemoryInfo } from './backends/backend.js';
export { cpuBackend } from './backends/cpu/index.js';
export { addOpHook, runOp, withOpContext, type OpEvent, type OpHook } from './ops/dispatch.js';
export type { OpName, OpAttrs } from './ops/attrs.js';
export * from './ops/elementwise.js';
export * from './ops/reduce.js';
export * from './io/safetensors.js';
export * from './io/npy.js';
export * from './io/arrays.js';
export { wrapStorage, type WrapOptions } from './io/wrap.js';
export { parseOnnx, type OnnxModel, type OnnxGraph, type OnnxNode, type OnnxTensor, type OnnxTensorData, type OnnxDataType, type OnnxAttribute, type OnnxValueInfo, type OnnxParseOptions } from './io/onnx/model.js';
export { loadOnnx, OnnxSession, type OnnxLoadOptions, type OnnxIO, type OnnxFeed, type OnnxStep } from './io/onnx/session.js';
export { onnxOpSupport, type OnnxOpSupportEntry } from './io/onnx/plan.js';
export { registerOnnxOp, registeredOnnxOps, type OnnxOpImpl, type OnnxPrecision, type Dim as OnnxDim } from './io/onnx/ops/index.js';
export { conv2d, conv1d, type Conv2dOptions, type Conv1dOptions, type Padding2d } from './ops/conv.js';
export * from './ops/pool.js';
export * from './ops/norm.js';
export * from './ops/transform.js';
export * from './ops/linalg.js';
export * from './ops/attention.js';
export { quantizeRows, linearInt8, linearW8, conv2dInt8, MAX_INT32_K, type QuantizeRowsOptions, type Int8LinearOptions, type Conv2dInt8Options } from './ops/quant.js';
export * from './quant/index.js';
export * as nn from './nn/index.js';
export { modelFromConfig, loadModelFromBytes, generate, CharTokenizer, KVCache, GPT, BERT, SequentialModel, type ConfiguredModel, type ModelConfig, type GenerateOptions, type GenerateStep } from './nn/index.js';
export { trace, steps, Trace, compareTraces, traceCompare, compareRuns, referenceOf, divergenceThreshold, DIVERGENCE_RULE, DIVERGENCE_THRESHOLDS, type RunComparison, type RunSetting, formatRecord, formatValues, formatTrace, formatComparison, sparkline, tensorStats, type TraceInputs, type Stepwise, type TraceRecord, type TraceOptions, type TensorStats, type TraceComparison, type CompareRow, type CompareAgainst, type TimingKind } from './trace/index.js';
export { initWebGPU, WebGPUBackend, type WebGPUOptions, type GpuSetup, type AdapterDescription, type OptionalFeature } from './backends/webgpu/index.js';
