// Pipeline cache: one compute pipeline per kernel file + defines + constants, labelled with that key so
// errors and traces name the variant. WGSL compile errors are reported with the variant and the shader line.
import { preprocess, type Defines, type WgslSource } from './wgsl.js';
import { COMMON } from './common.js';

/** A WGSL compile or pipeline error: reported in preference to the follow-on errors it causes. */
export class CompileError extends Error {}

interface Entry {
  pipeline: GPUComputePipeline;
  label: string;
  /** The preprocessed WGSL the pipeline was compiled from (traces show it). */
  code: string;
}

/** `unary.wgsl{OP=relu,T=f32}` — the readable key of a variant. */
export function variantLabel(src: WgslSource, defines: Defines, constants: Record<string, number>): string {
  const parts = [...Object.entries(defines), ...Object.entries(constants)].map(([k, v]) => `${k}=${v}`);
  return parts.length ? `${src.name}{${parts.join(',')}}` : src.name;
}

export class PipelineCache {
  private readonly cache = new Map<string, Entry>();
  private checks: Promise<void>[] = [];

  constructor(private readonly device: GPUDevice, private readonly onError: (e: Error) => void) {}

  /** Resolves once every pipeline created so far has been validated (errors went to `onError`). */
  async settled(): Promise<void> {
    const list = this.checks;
    this.checks = [];
    await Promise.all(list);
  }

  get size(): number {
    return this.cache.size;
  }

  /** The WGSL source of the variant labelled `label`, once it has been built. */
  source(label: string): string | undefined {
    return this.cache.get(label)?.code;
  }

  get(src: WgslSource, defines: Defines, constants: Record<string, number>): Entry {
    const label = variantLabel(src, defines, constants);
    const hit = this.cache.get(label);
    if (hit) return hit;
    const code = preprocess(src, defines, COMMON);
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ code, label });
    const pipeline = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main', constants }, label });
    const check = this.device.popErrorScope().then(async (err) => {
      if (!err) return;
      let where = '';
      try {
        const info = await module.getCompilationInfo();
        const lines = code.split('\n');
        where = info.messages
          .filter((m) => m.type === 'error')
          .map((m) => `line ${m.lineNum}:${m.linePos}: ${m.message} | ${(lines[m.lineNum - 1] ?? '').trim()}`)
          .join('; ');
      } catch {
        /* compilation info unavailable */
      }
      this.onError(new CompileError(`forwardpass: webgpu: kernel ${label} failed to compile: ${where || err.message.split('\n')[0]}`));
    });
    this.checks.push(check);
    const entry = { pipeline, label, code };
    this.cache.set(label, entry);
    return entry;
  }
}
