// forwardpass trace: step through a forward pass op by op (records, compare mode, terminal formatting), and the
// Module.trace / Module.steps methods (installed here so src/nn needs no runtime import of this folder).
import { _installTracer } from '../nn/module.js';
import { steps, trace } from './trace.js';

_installTracer({ trace, steps });

export { trace, steps, Trace, type TraceInputs, type Stepwise } from './trace.js';
export { compareTraces, traceCompare, diffMetrics, type CompareRow, type TraceComparison, type CompareOptions, type CompareAgainst } from './compare.js';
export { compareRuns, referenceOf, divergenceThreshold, runLabel, DIVERGENCE_RULE, DIVERGENCE_THRESHOLDS, type RunComparison, type RunSetting, type RunPrecision } from './divergence.js';
export { formatRecord, formatValues, formatTrace, formatComparison, formatCompareRow, sparkline, shortNum, timingText, pathWidthOf, type RecordFormatOptions } from './format.js';
export { tensorStats } from './stats.js';
export type { TraceRecord, TraceOptions, TensorStats, TensorInfo, OutputInfo, TimingKind, Traceable } from './types.js';
