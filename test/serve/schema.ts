// The v2 (Open Inference Protocol) REST JSON shapes, written from the protocol's documentation
// (https://kserve.github.io/website/latest/modelserving/data_plane/v2_protocol, "HTTP/REST" section: server metadata,
// model metadata, inference request/response and error objects), as small checkers that list what does not match.

type Check = (v: unknown, at: string, errs: string[]) => void;
const str: Check = (v, at, e) => { if (typeof v !== 'string') e.push(`${at}: expected $string, got ${JSON.stringify(v)}`); };
const num: Check = (v, at, e) => { if (typeof v !== 'number') e.push(`${at}: expected $number, got ${JSON.stringify(v)}`); };
const arr = (item: Check): Check => (v, at, e) => { if (!Array.isArray(v)) e.push(`${at}: expected $array`); else v.forEach((x, i) => item(x, `${at}[${i}]`, e)); };
const obj = (req: Record<string, Check>, opt: Record<string, Check> = {}): Check => (v, at, e) => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) { e.push(`${at}: expected $object`); return; }
  const o = v as Record<string, unknown>;
  for (const [k, c] of Object.entries(req)) { if (!(k in o)) e.push(`${at}.${k}: missing`); else c(o[k], `${at}.${k}`, e); }
  for (const [k, c] of Object.entries(opt)) if (k in o) c(o[k], `${at}.${k}`, e);
};
const nestedNumbers: Check = (v, at, e) => { if (Array.isArray(v)) v.forEach((x, i) => nestedNumbers(x, `${at}[${i}]`, e)); else num(v, at, e); };
const DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'];
const datatype: Check = (v, at, e) => { if (!DATATYPES.includes(v as string)) e.push(`${at}: expected one of the tensor data types, got ${JSON.stringify(v)}`); };
const params = obj({});

/** $metadata_server_response: name, version, extensions. */
export const serverMetadata = obj({ name: str, version: str, extensions: arr(str) });
/** $metadata_tensor: name, datatype, shape (-1 for a variable dim). */
const metadataTensor = obj({ name: str, datatype, shape: arr(num) });
/** $metadata_model_response: name, versions #optional, platform, inputs, outputs. */
export const modelMetadata = obj({ name: str, platform: str, inputs: arr(metadataTensor), outputs: arr(metadataTensor) }, { versions: arr(str) });
/** $response_output: name, shape, datatype, parameters #optional, data. */
const responseOutput = obj({ name: str, shape: arr(num), datatype, data: nestedNumbers }, { parameters: params });
/** $inference_response: model_name, model_version #optional, id #optional, parameters #optional, outputs. */
export const inferenceResponse = obj({ model_name: str, outputs: arr(responseOutput) }, { model_version: str, id: str, parameters: params });
/** $inference_error_response and the metadata error responses: error. */
export const errorResponse = obj({ error: str });

/** What `check` finds wrong with `v` ([] when it matches). */
export function problems(check: Check, v: unknown): string[] {
  const errs: string[] = [];
  check(v, '$', errs);
  return errs;
}
