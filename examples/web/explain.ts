// What each op computes, in one or two plain sentences, for the step-through page's "This op" panel: a student
// reads the forward pass from the page itself. The table is typed by the library's op names, so a new op without
// an explanation does not compile.
import type * as fp from '../../src/index.js';

/** One or two sentences per kernel op. */
export const OP_EXPLANATIONS: Readonly<Record<fp.OpName, string>> = {
  // data movement
  copy: 'Copies values into a fresh, contiguous block of memory. Reshapes and transposes are free views; a copy happens only when the next kernel needs its input laid out row by row (here: heads split apart or keys transposed).',
  cast: 'Converts every value to another number type (e.g. int to float, or float16 halves to float32) without changing what it means.',
  gather: 'Looks values up by index: each id picks one row of a table. For token ids this is the embedding lookup that turns every token into a vector of learned numbers.',
  concat: 'Joins tensors end to end along one axis, like appending rows or columns.',
  pad: 'Surrounds the input with extra values (usually zeros) so a following convolution or pooling window can also sit on the borders.',
  where: 'Picks, element by element, from one of two inputs depending on a true/false mask. Attention uses it to set scores of forbidden positions to -inf.',
  // elementwise arithmetic
  add: 'Adds two tensors element by element (a smaller one is repeated, "broadcast", to fit). Residual connections are adds: a block\'s result is added back onto its input.',
  sub: 'Subtracts the second tensor from the first, element by element (broadcast when the shapes differ).',
  mul: 'Multiplies element by element (broadcast when the shapes differ), e.g. scaling attention scores by 1/sqrt(head size).',
  div: 'Divides element by element (broadcast when the shapes differ), e.g. attention scores by sqrt(head size).',
  pow: 'Raises each value to a power, element by element.',
  maximum: 'Keeps the larger of two values at each position.',
  minimum: 'Keeps the smaller of two values at each position.',
  mod: 'The remainder of an element-by-element division.',
  neg: 'Flips the sign of every value.',
  abs: 'Replaces every value by its size, dropping the sign.',
  exp: 'Raises e to every value: large values grow fast, negative ones shrink towards 0.',
  log: 'The natural logarithm of every value (the inverse of exp).',
  sqrt: 'The square root of every value.',
  rsqrt: 'One over the square root of every value, as used to divide by a standard deviation.',
  reciprocal: 'One over every value.',
  square: 'Every value times itself.',
  sin: 'The sine of every value.',
  cos: 'The cosine of every value.',
  tanh: 'Squashes every value into (-1, 1) with the hyperbolic tangent; here a step of GELU\'s tanh approximation.',
  erf: 'The Gauss error function of every value, a smooth step from -1 to 1 (part of the exact GELU).',
  sigmoid: 'Squashes every value into (0, 1): large negatives go to 0, large positives to 1.',
  relu: 'Keeps positive values and sets negative ones to 0. This bend is what lets stacked layers learn more than one big linear map.',
  gelu: 'A smooth ReLU: values well above 0 pass, values well below 0 become 0, and near 0 it curves gently (x times the chance a normal variable is below x).',
  geluTanh: 'GELU computed with the tanh approximation GPT-2 was trained with: a smooth ReLU that lets small negative values through slightly.',
  silu: 'x times sigmoid(x): a smooth ReLU-like activation.',
  floor: 'Rounds every value down to a whole number.',
  ceil: 'Rounds every value up to a whole number.',
  round: 'Rounds every value to the nearest whole number.',
  sign: 'Replaces every value by -1, 0 or 1 according to its sign.',
  not: 'Flips every true to false and false to true (a mask turned around).',
  clamp: 'Limits every value to a range: values below the minimum become the minimum, above the maximum the maximum.',
  leakyRelu: 'Like ReLU, but negative values are multiplied by a small slope instead of set to 0.',
  elu: 'Like ReLU for positive values; negative values curve smoothly towards -alpha instead of jumping to 0.',
  hardSigmoid: 'A piecewise-linear sigmoid: a straight ramp from 0 to 1, cheaper than the curve.',
  hardSwish: 'x times a hard sigmoid of x: a cheap smooth-ReLU-like activation.',
  softplus: 'A smooth ReLU: log(1 + e^x), always positive.',
  // comparisons and logic
  eq: 'Marks, element by element, where two values are equal (true/false). Attention uses it to find rows that were masked out entirely.',
  ne: 'Marks where two values differ (true/false).',
  lt: 'Marks where the first value is smaller (true/false).',
  le: 'Marks where the first value is smaller or equal (true/false). The causal mask is built this way: key j is allowed for query i when j <= i.',
  gt: 'Marks where the first value is larger (true/false).',
  ge: 'Marks where the first value is larger or equal (true/false).',
  and: 'True where both masks are true.',
  or: 'True where either mask is true.',
  xor: 'True where exactly one of the two masks is true.',
  // reductions
  sum: 'Adds up the values along one or more axes, leaving one number per remaining position.',
  mean: 'Averages the values along one or more axes.',
  max: 'Keeps the largest value along an axis. Before a softmax it finds each row\'s peak, so the exponentials stay small.',
  min: 'Keeps the smallest value along an axis.',
  prod: 'Multiplies the values along one or more axes.',
  var: 'The variance (spread around the mean) of the values along one or more axes.',
  argmax: 'The position of the largest value along an axis, e.g. the predicted class.',
  argmin: 'The position of the smallest value along an axis.',
  softmax: 'Turns each row of scores into probabilities: every value is exponentiated, then the row is divided by its sum, so the row is positive and adds up to 1.',
  logSoftmax: 'The logarithm of the softmax probabilities, computed in one stable step.',
  // the layers
  matmul: 'Matrix multiplication: every output entry is the dot product of a row of the first input with a column of the second. In attention it compares every query with every key, then mixes the values by the probabilities.',
  linear: 'A fully connected layer: every output is a weighted sum of all inputs plus a bias, y = x·Wᵀ + b. The weights W are what the model learned.',
  conv2d: 'A convolution: a small learned filter slides over the image and, at every position, takes a weighted sum of the pixels under it. Each output channel is one filter, lighting up where its pattern (an edge, a stroke) appears.',
  maxPool2d: 'Keeps the largest value of each small window (e.g. 2x2), halving the image size while keeping the strongest responses.',
  avgPool2d: 'Averages each small window of the image, shrinking it while keeping the overall response.',
  batchNorm: 'Normalizes each channel with the mean and variance measured during training, then scales and shifts it by learned numbers, so the next layer sees values in a steady range.',
  layerNorm: 'Normalizes each position\'s vector to mean 0 and variance 1, then scales and shifts it by learned weights. It keeps the numbers in a steady range however deep the network is.',
  rmsNorm: 'Divides each position\'s vector by its root mean square, then scales it by learned weights (a layer norm without the mean).',
  groupNorm: 'Normalizes groups of channels to mean 0 and variance 1, then scales and shifts them by learned numbers.',
  sdpa: 'Attention in one fused kernel: every query is compared with every key, the scores become probabilities with a softmax, and the values are mixed by them. This is the layer\'s real output; the separate score and softmax ops before it ran only so the page can draw the attention map.',
  // int8
  quantizeRows: 'Prepares int8 arithmetic: each row is scaled so its largest value becomes 127 and rounded to whole numbers, and the scale is kept to undo it later.',
  linearInt8: 'A Linear layer computed in 8-bit integers: int8 inputs times int8 weights, summed exactly in int32, then multiplied back by the two scales. Four times smaller weights, a small rounding error.',
  linearW8: 'A Linear layer whose weights are stored as int8 with a scale per row; the inputs stay float and the weights are scaled back on the fly.',
  conv2dInt8: 'A convolution computed in 8-bit integers: int8 pixels times int8 filter weights, summed in int32, then multiplied back by the scales.',
};

const shape = (s: readonly number[]) => `[${s.join(', ')}]`;

/** A sentence about this record's own shapes, for the ops where they tell the story. */
function specifics(r: fp.TraceRecord): string {
  const [a, b] = r.inputs;
  const out = r.output.shape;
  if ((r.op === 'linear' || r.op === 'linearInt8') && out.length) {
    const k = r.op === 'linear' ? b?.shape[1] : a?.shape[a.shape.length - 1];
    return k ? `Here each of the ${out[out.length - 1]} outputs sums ${k} inputs, for ${out.slice(0, -1).reduce((x, y) => x * y, 1)} row(s).` : '';
  }
  if (r.op === 'conv2d' && b && b.shape.length === 4) return `Here ${b.shape[0]} filters of ${b.shape[1]} x ${b.shape[2]} x ${b.shape[3]} weights make ${shape(out)}.`;
  if (r.op === 'softmax' && out.length) return `Here ${out.slice(0, -1).reduce((x, y) => x * y, 1)} rows of ${out[out.length - 1]} each add up to 1.`;
  if (r.op === 'matmul' && a && b) return `Here ${shape(a.shape)} times ${shape(b.shape)} gives ${shape(out)}.`;
  return '';
}

/**
 * The page's words for one traced op: what the op computes, and a sentence about its shapes where that helps.
 * @example explainOp(record) // 'Keeps positive values and sets negative ones to 0. ...'
 */
export function explainOp(r: fp.TraceRecord): string {
  if (r.op === 'host') return `The ONNX op ${(r.attrs as { opType: string }).opType} has no kernel on this backend: a plain typed-array loop computed it on the CPU, and its outputs went on to the next op.`;
  const general = (OP_EXPLANATIONS as Record<string, string>)[r.op] ?? `(No explanation of '${r.op}' yet.)`;
  const here = specifics(r);
  return here ? `${general} ${here}` : general;
}
