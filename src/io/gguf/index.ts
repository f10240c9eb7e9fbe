// GGUF (llama.cpp's model files) on bytes: the container reader, ggml block dequantizers, the llama-family model
// built from a file's metadata and tensors, and its tokenizer. 'forwardpass/node' adds the file-path versions.
export { readGguf, ggufTensorBytes, ggufValue, GGUF_VALUE_TYPES, type GgufFile, type GgufKv, type GgufTensorInfo, type GgufValue, type GgufValueType } from './reader.js';
export { GGML_TYPES, ggmlBytes, type GgmlType, type GgmlTypeName } from './types.js';
export * from './blocks.js';
export { writeGguf, type GgufWriteTensor } from './writer.js';
export { ggufModelFromFile, ggufHfConfig, hfTensorName, unpermuteRows, q8_0ToRows, type GgufLoadOptions, type GgufPrecision } from './model.js';
export { ggufTokenizer, ggufTokenizerJson } from './tokenizer.js';
export { ggufFromLlama } from './save.js';
export { Q8Embedding } from './embedding.js';
