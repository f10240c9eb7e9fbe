// ONNX OptionalHasElement and OptionalGetElement on tensors (forwardpass has no optional or sequence values): an
// omitted input is the empty optional (HasElement false), a tensor input is present (true) and GetElement of it is
// the tensor itself.
import { full } from '../../../tensor/creation.js';
import { registerOnnxOp } from './registry.js';

registerOnnxOp('OptionalHasElement', {
  infer: () => [{ dtype: 'bool', shape: [] }],
  run: (c) => [full([], c.inputs[0] ? 1 : 0, { dtype: 'bool', device: c.device })],
});

registerOnnxOp('OptionalGetElement', {
  run: (c) => [c.input(0)],
});
