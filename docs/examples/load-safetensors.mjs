#!/usr/bin/env node
/**
 * A small loader that reads the tensors of a safetensors model through openVerified: every byte it
 * gets has been verified against the publisher's signature (leaf by leaf with a Merkle companion).
 *
 *   node docs/examples/load-safetensors.mjs MODEL_DIR MODEL.sig PUB.pem [TENSOR_GLOB]
 *
 * It prints each tensor's name, dtype, shape and the first values of F32 tensors, and exits 1 on a
 * verification failure, naming the file, byte range and tensors of the bad leaf.
 */
import { openVerified } from 'modelseal';

const [dir, signature, publicKey, glob = '*'] = process.argv.slice(2);
if (!dir || !signature || !publicKey) {
  console.error('usage: load-safetensors.mjs MODEL_DIR MODEL.sig PUB.pem [TENSOR_GLOB]');
  process.exit(2);
}
const wanted = new RegExp('^' + glob.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');

const model = await openVerified(dir, { signature, publicKey });
console.log(`root ${model.rootDigest}, granularity ${model.granularity}${model.notes.length ? ` (${model.notes.join('; ')})` : ''}`);
let failed = 0;
try {
  for (const file of model.files().filter((f) => f.path.endsWith('.safetensors'))) {
    for (const t of await model.tensors(file.path)) {
      if (!wanted.test(t.name)) continue;
      try {
        const bytes = await model.readTensor(file.path, t.name); // resolves only with verified bytes
        const head = t.dtype === 'F32' ? Array.from(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + Math.min(16, bytes.length)))) : [];
        console.log(`${file.path} ${t.name} ${t.dtype} [${t.shape.join(', ')}] ${bytes.length} bytes ${head.length ? head.map((x) => x.toPrecision(4)).join(' ') : ''}`);
      } catch (e) {
        if (e.code !== 'RANGE_MISMATCH') throw e;
        failed++;
        console.error(`REFUSED ${t.name}: ${e.message}`);
      }
    }
  }
} finally {
  await model.close();
}
process.exit(failed ? 1 : 0);
