// Shared pieces of the headless-Chromium tests: where Debian's chromium is, whether the tests must run (WebGPU
// required), and the flags that give it WebGPU on SwiftShader.
import { existsSync } from 'node:fs';

export const CHROMIUM = '/usr/bin/chromium';
export const REQUIRED = process.env.FORWARDPASS_REQUIRE_WEBGPU === '1';
export const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && REQUIRED) throw new Error(`forwardpass tests: ${CHROMIUM} is missing (apt-get install chromium); the browser tests are required here`);
if (!haveChromium) console.warn(`browser tests skipped: ${CHROMIUM} not found (apt-get install chromium)`);

export const FLAGS = [
  '--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader', '--enable-unsafe-swiftshader', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
