// forwardpass INT8: quantize a float model (per-channel or Q8_0 weights; dynamic, static or no activation
// quantization; per-layer choices), the quantized layers, save/load of quantized models, and reports.
export { QK8_0, MIN_SCALE, roundHalfAway, quantizeBlock, paddedLength, quantizeRowsRef, dequantizeRowsRef, type QuantizedRows, type WeightScheme } from './formats.js';
export { QTensor, WEIGHT_SCHEMES } from './qtensor.js';
export { QuantizedLinear, QuantizedConv2d, ACTIVATION_MODES, type ActivationMode, type LayerScheme, type QuantOptions } from './modules.js';
export { quantize, isQuantized, quantizableLayers, type QuantizeOptions, type LayerChoice, type CalibrationData } from './quantize.js';
export type { ModelInputs } from './calibration-input.js';
export { replaceSubmodule } from './replace.js';
export { QUANT_FORMAT, quantizationInfo, saveQuantized, parseQuantizationInfo, applyQuantizedLayout, loadModelAutoFromBytes, type QuantizationInfo } from './serialize.js';
export { quantizationReport, formatReport, layerCosines, cosine, type LayerReport, type QuantizationReport } from './report.js';
