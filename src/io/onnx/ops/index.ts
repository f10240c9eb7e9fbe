// Every ONNX op implementation, registered on import; the registry's lookup functions for the runtime.
// A new op file registers itself with registerOnnxOp and is added here with one import line.
import './elementwise.js';
import './shape.js';
import './linalg.js';
import './conv.js';
import './norm.js';
import './generate.js';
import './resize.js';
import './quantized.js';
import './activations.js';
import './indexing.js';
import './loss.js';
import './attention.js';
import './normalize-more.js';
import './spatial.js';
import './recurrent.js';
import './control.js';
import './elementwise-host.js';
import './scatter.js';
import './select.js';
import './nms.js';
import './tfidf.js';
import './signal.js';
import './lrn.js';
import './det.js';
import './rearrange.js';
import './indexing-host.js';
import './ml.js';
import './einsum.js';
import './roialign.js';
import './optional.js';
import './causalconv.js';
import './linear-attention.js';
import './optimizers.js';

export { getOnnxOp, registerOnnxOp, registeredOnnxOps, AttrReader, nodeContext, type OnnxOpImpl, type InferContext, type PrepareContext, type RunContext, type NodeContext, type ValueType, type Dim, type OnnxPrecision } from './registry.js';
