/// <reference types="@webgpu/types" preserve="true" />
/**
 * The `modelseal/webgpu` entry point: the WebGPU backend and GPU-resident verification. GPU support
 * is optional: it needs the `webgpu` package (`npm install webgpu`); without it every function here
 * reports WEBGPU_UNAVAILABLE with that advice. The reference above makes the published declarations
 * type-check under `strict` without `skipLibCheck` (they name GPUDevice, GPUBuffer, ...).
 */
export * from './backends/webgpu/index.js';
