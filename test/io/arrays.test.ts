// Fixture array descriptors: readArray on hand-built bytes (unaligned offsets too) and its validation errors.
import { describe, expect, it } from 'vitest';
import * as fp from '../../src/index.js';

/** A file with some junk bytes, then float32 [1.5, -2, 3, 4] at offset 3 and int32 [7, -8] at offset 19. */
function file(): Uint8Array {
  const b = new Uint8Array(27);
  b.fill(0xee, 0, 3);
  const dv = new DataView(b.buffer);
  [1.5, -2, 3, 4].forEach((v, i) => dv.setFloat32(3 + 4 * i, v, true));
  [7, -8].forEach((v, i) => dv.setInt32(19 + 4 * i, v, true));
  return b;
}
const f32 = { file: 'x.bin', dtype: 'float32' as const, shape: [2, 2], offset: 3, nbytes: 16 };

describe('readArray', () => {
  it('reads float32 and int32 arrays at unaligned offsets, as copies', async () => {
    const b = file();
    const t = fp.readArray(f32, b);
    expect(t.dtype).toBe('float32');
    expect(t.shape).toEqual([2, 2]);
    expect(await t.toArray()).toEqual([[1.5, -2], [3, 4]]);
    const ids = fp.readArray({ file: 'x.bin', dtype: 'int32', shape: [2], offset: 19, nbytes: 8, onnx_dtype: 'int64' }, b.buffer as ArrayBuffer);
    expect(ids.dtype).toBe('int32');
    expect(Array.from(await ids.data())).toEqual([7, -8]);
    b.fill(0); // the tensors own their data
    expect(Array.from(await t.data())).toEqual([1.5, -2, 3, 4]);
    expect(fp.readArray({ ...f32, shape: [0, 2], nbytes: 0, offset: 27 }, b).shape).toEqual([0, 2]);
    expect(fp.readArray({ ...f32, shape: [], nbytes: 4 }, file()).dataSync()[0]).toBe(1.5);
  });

  it('rejects descriptors that do not fit the file or disagree with themselves', () => {
    const b = file();
    const r = (d: unknown) => () => fp.readArray(d as fp.ArrayDescriptor, b, { name: "io.json case 'batch1' input 'input'" });
    const pre = "^forwardpass: array io.json case 'batch1' input 'input': ";
    expect(r({ ...f32, nbytes: 12 })).toThrow(new RegExp(pre + 'float32 \\[2, 2\\] needs 16 bytes, but nbytes is 12'));
    expect(r({ ...f32, offset: 12 })).toThrow(new RegExp(pre + "bytes \\[12, 28\\) run past the end of 'x.bin' \\(27 bytes\\)"));
    expect(r({ ...f32, dtype: 'float64' })).toThrow(/dtype must be 'float32' or 'int32', found "float64"/);
    expect(r({ ...f32, shape: [2, -2] })).toThrow(/shape must be an array of non-negative integers, found \[2,-2\]/);
    expect(r({ ...f32, offset: -1 })).toThrow(/offset must be a non-negative integer, found -1/);
    expect(r({ ...f32, nbytes: '16' })).toThrow(/nbytes must be a non-negative integer, found "16"/);
    expect(r({ ...f32, file: 3 })).toThrow(/file must be a non-empty string, found 3/);
    expect(r(null)).toThrow(/expected an array descriptor \{file, dtype, shape, offset, nbytes\}, found null/);
    expect(() => fp.readArray(f32, 'bytes' as never)).toThrow(/^forwardpass: array: expected a Uint8Array or ArrayBuffer of file bytes, got string/);
  });
});
