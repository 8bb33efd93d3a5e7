// Entry of the PDF Web Worker (a module worker): loads the worker's own wasm from dist/pdf/.
// Trunk's generated loader shim points to the wrong place when the worker has a target path,
// so the app starts this file instead.
import init from './pdf/praxisbote-pdf-worker.js';
await init();
