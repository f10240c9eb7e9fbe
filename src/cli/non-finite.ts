// The warning `forwardpass run` prints on stderr when an output holds NaN or ±Inf: the values are written as they
// are (never hidden or replaced), and the exit code stays 0.
import type { Tensor } from '../tensor/tensor.js';

/**
 * One stderr line naming the output and counting its NaN and infinite values, or nothing when all are finite.
 * @example await warnNonFinite('logits', y) // forwardpass: warning: output 'logits' holds 10 NaN of 30 values (written as they are)
 */
export async function warnNonFinite(name: string, t: Tensor): Promise<void> {
  if (t.dtype !== 'float32' && t.dtype !== 'float16') return;
  const v = await t.data();
  let nan = 0, inf = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (x !== x) nan++;
    else if (x === Infinity || x === -Infinity) inf++;
  }
  if (!nan && !inf) return;
  const what = [nan ? `${nan} NaN` : '', inf ? `${inf} infinite` : ''].filter(Boolean).join(' and ');
  process.stderr.write(`forwardpass: warning: output '${name}' holds ${what} of ${v.length} values (written as they are)\n`);
}
