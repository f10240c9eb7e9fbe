// Reading a whole file as bytes in Node, with the one-sentence error the loaders share (Node only: imported by
// src/node.ts and the node parts of the HF and GGUF loaders, never by the browser-safe entry).
import { readFile } from 'node:fs/promises';
import { ioFail } from './errors.js';

/** The file's bytes (a view on Node's buffer, no copy); a failed read names `what` and the path. */
export async function readFileBytes(path: string, what: string): Promise<Uint8Array> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    return ioFail(what, `cannot read '${path}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
