// ggml tensor types a GGUF file may hold, with ggml's numbering, block sizes (values per block) and type sizes
// (bytes per block), so the reader can size every tensor; the dequantizers live in blocks.ts.

export type GgmlTypeName =
  | 'F32' | 'F16' | 'Q4_0' | 'Q4_1' | 'Q5_0' | 'Q5_1' | 'Q8_0' | 'Q8_1' | 'Q2_K' | 'Q3_K' | 'Q4_K' | 'Q5_K' | 'Q6_K' | 'Q8_K'
  | 'I8' | 'I16' | 'I32' | 'I64' | 'F64' | 'BF16';

export interface GgmlType {
  name: GgmlTypeName;
  id: number;
  blockSize: number;
  typeSize: number;
}

const QK_K = 256;
const t = (name: GgmlTypeName, id: number, blockSize: number, typeSize: number): GgmlType => ({ name, id, blockSize, typeSize });

export const GGML_TYPES: Record<GgmlTypeName, GgmlType> = {
  F32: t('F32', 0, 1, 4),
  F16: t('F16', 1, 1, 2),
  Q4_0: t('Q4_0', 2, 32, 18),
  Q4_1: t('Q4_1', 3, 32, 20),
  Q5_0: t('Q5_0', 6, 32, 22),
  Q5_1: t('Q5_1', 7, 32, 24),
  Q8_0: t('Q8_0', 8, 32, 34),
  Q8_1: t('Q8_1', 9, 32, 36),
  Q2_K: t('Q2_K', 10, QK_K, 84),
  Q3_K: t('Q3_K', 11, QK_K, 110),
  Q4_K: t('Q4_K', 12, QK_K, 144),
  Q5_K: t('Q5_K', 13, QK_K, 176),
  Q6_K: t('Q6_K', 14, QK_K, 210),
  Q8_K: t('Q8_K', 15, QK_K, 292),
  I8: t('I8', 24, 1, 1),
  I16: t('I16', 25, 1, 2),
  I32: t('I32', 26, 1, 4),
  I64: t('I64', 27, 1, 8),
  F64: t('F64', 28, 1, 8),
  BF16: t('BF16', 30, 1, 2),
};

const BY_ID = new Map(Object.values(GGML_TYPES).map((x) => [x.id, x]));

/** The type with ggml id `id`, or undefined. */
export function typeById(id: number): GgmlType | undefined {
  return BY_ID.get(id);
}

export function typeByName(name: GgmlTypeName): GgmlType {
  return GGML_TYPES[name];
}

/** Bytes of `n` values of a type (n a multiple of its block). @example ggmlBytes('Q8_0', 64) // 68 */
export function ggmlBytes(name: GgmlTypeName, n: number): number {
  const x = GGML_TYPES[name];
  return (n / x.blockSize) * x.typeSize;
}
