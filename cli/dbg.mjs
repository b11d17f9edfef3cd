import * as tf from '@tensorflow/tfjs-core';
import { loadMnist, shiftedBatch, buildClassifier, selectBackend } from '@gantry/training';
import { Rng } from '@gantry/core';
await selectBackend('wasm', { wasmThreads: 1 });
const d = await loadMnist({ limit: 20000 });
const lr = Number(process.argv[2]), drop = Number(process.argv[3]), shift = Number(process.argv[4]);
const model = buildClassifier([28,28,1], 10, drop);
const opt = tf.train.adam(lr); const rng = Rng.fromSeed(1);
for (let b=0;b<60;b++){
  const idx = Array.from({length:128},()=>rng.nextInt(20000));
  const x = tf.tensor4d(shiftedBatch(d, idx, shift, rng), [128,28,28,1]);
  const y = tf.oneHot(tf.tensor1d(idx.map(i=>d.labels[i]),'int32'),10).cast('float32');
  const l = opt.minimize(()=>tf.losses.softmaxCrossEntropy(y, model.apply(x,{training:true})), true);
  if (b%10==9) console.log(b, l.dataSync()[0]);
  tf.dispose([x,y,l]);
}
