// LeNet-5 training speed of three in-browser engines, in one Node process, interleaved in rounds:
//   pyodide  - the project's core (NumPy under Pyodide 0.27.7, products through np.einsum, C3 through np.fft)
//   tfjs     - TF.js 4.22 with the wasm backend (SIMD, one thread)
//   convnetjs- ConvNetJS 0.3.0 (plain JavaScript, float64)
// Same model (C1 6@5x5 - S2 - C3 16@5x5 - S4 - C5 120@5x5 - F6 84 - 10, ReLU, max pooling, 61,706 weights),
// softmax cross-entropy, plain SGD (lr 0.01), the same batch size, synthetic 32x32x1 inputs.
//
//   node bench.mjs '{"pyodideCore": ".../pyodide-core", "pyodideIndex": ".../dist/pyodide/", "coreDir": ".../core",
//                    "batch": 32, "steps": 20, "rounds": 5}'
// prints one JSON line: {"params": {...}, "rounds": [{"pyodide": img/s, "tfjs": img/s, "convnetjs": img/s}, ...],
// "loss": {...: [first, last]}}.
import { createRequire } from "module";
import fs from "fs";
import path from "path";
import { fileURLToPath } from "url";

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const opts = JSON.parse(process.argv[2]);
const B = opts.batch, STEPS = opts.steps, ROUNDS = opts.rounds, POOL = 256;
const log = (...a) => process.stderr.write(a.join(" ") + "\n");

// One synthetic data set for everyone: POOL images in [0, 1) and labels, from a fixed LCG.
let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const X = Float32Array.from({ length: POOL * 32 * 32 }, rand);
const Y = Int32Array.from({ length: POOL }, () => Math.floor(rand() * 10));
const batchStart = (s) => (s * B) % (POOL - B + 1);

// ---------------------------------------------------------------- NumPy under Pyodide (the project's core)
async function makePyodide() {
  const { loadPyodide } = await import(path.join(opts.pyodideCore, "pyodide.mjs"));
  const py = await loadPyodide({ indexURL: opts.pyodideIndex });
  await py.loadPackage(["numpy"], { messageCallback: () => {} });
  py.FS.mkdirTree("/home/pyodide/bench/core");
  for (const name of fs.readdirSync(opts.coreDir)) {
    if (!name.endsWith(".py")) continue;
    py.FS.writeFile(`/home/pyodide/bench/core/${name}`, fs.readFileSync(path.join(opts.coreDir, name)));
  }
  py.globals.set("X_BYTES", new Uint8Array(X.buffer));
  py.globals.set("Y_BYTES", new Uint8Array(Y.buffer));
  py.runPython(`
import sys, time
sys.path.insert(0, "/home/pyodide/bench")
import numpy as np
from core import models, optimizers
X = np.frombuffer(bytes(X_BYTES.to_py()), np.float32).reshape(${POOL}, 32, 32, 1)
Y = np.frombuffer(bytes(Y_BYTES.to_py()), np.int32).astype(np.int64)
model = models.lenet5()
params = model.init(seed=0)
opt = optimizers.SGD(0.01)
state = opt.init(params)
losses = []

def train(steps, b, start_of):
    global params, state
    t0 = time.perf_counter()
    for s in range(steps):
        i = start_of(s)
        loss, grads = model.value_and_grad(params, X[i:i + b], Y[i:i + b])
        params, state = opt.update(grads, state, params)
        losses.append(float(loss))
    return steps * b / (time.perf_counter() - t0)
`);
  const train = py.globals.get("train");
  return {
    params: py.runPython("model.count_params()"),
    train: (steps) => train(steps, B, batchStart),
    loss: () => py.runPython("[losses[0], losses[-1]]").toJs(),
  };
}

// ---------------------------------------------------------------- TF.js, wasm backend
async function makeTfjs() {
  const tf = require("@tensorflow/tfjs");            // the union package: core with every gradient registered
  const wasm = require("@tensorflow/tfjs-backend-wasm");
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);       // one thread, like Pyodide and ConvNetJS
  wasm.setWasmPaths(path.join(here, "node_modules/@tensorflow/tfjs-backend-wasm/dist") + path.sep);
  await tf.setBackend("wasm");
  await tf.ready();
  // The wasm backend has no Conv2DBackpropFilter kernel (tfjs issue 8474): the kernel gradient is computed as a
  // conv2d with batch and channels swapped, dW[kh,kw,c,f] = sum_{n,i,j} x[n,i+kh,j+kw,c] dy[n,i,j,f] (stride 1).
  const kernelGrad = (x, dy) =>
    tf.transpose(tf.conv2d(tf.transpose(x, [3, 1, 2, 0]), tf.transpose(dy, [1, 2, 0, 3]), 1, "valid"), [1, 2, 0, 3]);
  const conv = tf.customGrad((x, w, save) => {
    save([x, w]);
    return { value: tf.conv2d(x, w, 1, "valid"),
             gradFunc: (dy, [x, w]) => [tf.conv2dTranspose(dy, w, x.shape, 1, "valid"), kernelGrad(x, dy)] };
  });
  const firstConv = tf.customGrad((x, w, save) => {              // nobody needs dL/d(input image)
    save([x]);
    return { value: tf.conv2d(x, w, 1, "valid"), gradFunc: (dy, [x]) => [tf.zerosLike(x), kernelGrad(x, dy)] };
  });
  const glorot = (shape, fanIn, fanOut) => {
    const lim = Math.sqrt(6 / (fanIn + fanOut));
    return tf.variable(tf.randomUniform(shape, -lim, lim, "float32", 0));
  };
  const v = {
    c1: glorot([5, 5, 1, 6], 25, 150), b1: tf.variable(tf.zeros([6])),
    c3: glorot([5, 5, 6, 16], 150, 400), b3: tf.variable(tf.zeros([16])),
    c5: glorot([5, 5, 16, 120], 400, 3000), b5: tf.variable(tf.zeros([120])),
    f6: glorot([120, 84], 120, 84), b6: tf.variable(tf.zeros([84])),
    out: glorot([84, 10], 84, 10), bo: tf.variable(tf.zeros([10])),
  };
  const forward = (x) => {
    let h = tf.relu(tf.add(firstConv(x, v.c1), v.b1));
    h = tf.maxPool(h, 2, 2, "valid");
    h = tf.relu(tf.add(conv(h, v.c3), v.b3));
    h = tf.maxPool(h, 2, 2, "valid");
    h = tf.reshape(tf.relu(tf.add(conv(h, v.c5), v.b5)), [-1, 120]);
    h = tf.relu(tf.add(tf.matMul(h, v.f6), v.b6));
    return tf.add(tf.matMul(h, v.out), v.bo);
  };
  const opt = tf.train.sgd(0.01);
  const xs = tf.tensor4d(X, [POOL, 32, 32, 1]);
  const ys = tf.oneHot(tf.tensor1d(Y, "int32"), 10);
  const losses = [];
  return {
    params: Object.values(v).reduce((n, t) => n + t.size, 0),
    train: (steps) => {
      const t0 = performance.now();
      for (let s = 0; s < steps; s++) {
        const i = batchStart(s);
        const loss = tf.tidy(() => opt.minimize(() => tf.losses.softmaxCrossEntropy(
          tf.slice(ys, [i, 0], [B, 10]), forward(tf.slice(xs, [i, 0, 0, 0], [B, 32, 32, 1]))), true));
        losses.push(loss.dataSync()[0]);                          // waits for the step, as a training loop does
        loss.dispose();
      }
      return (steps * B) / ((performance.now() - t0) / 1000);
    },
    loss: () => [losses[0], losses[losses.length - 1]],
  };
}

// ---------------------------------------------------------------- ConvNetJS
function makeConvnetjs() {
  const convnetjs = require("convnetjs");
  const net = new convnetjs.Net();
  net.makeLayers([
    { type: "input", out_sx: 32, out_sy: 32, out_depth: 1 },
    { type: "conv", sx: 5, filters: 6, stride: 1, pad: 0, activation: "relu" },
    { type: "pool", sx: 2, stride: 2 },
    { type: "conv", sx: 5, filters: 16, stride: 1, pad: 0, activation: "relu" },
    { type: "pool", sx: 2, stride: 2 },
    { type: "conv", sx: 5, filters: 120, stride: 1, pad: 0, activation: "relu" },
    { type: "fc", num_neurons: 84, activation: "relu" },
    { type: "softmax", num_classes: 10 },
  ]);
  const trainer = new convnetjs.SGDTrainer(net, { method: "sgd", learning_rate: 0.01, batch_size: B, momentum: 0,
                                                  l2_decay: 0 });
  const vols = Array.from({ length: POOL }, (_, n) => {
    const vol = new convnetjs.Vol(32, 32, 1, 0.0);
    vol.w.set(X.subarray(n * 1024, (n + 1) * 1024));
    return vol;
  });
  let params = 0;
  for (const pg of net.getParamsAndGrads()) params += pg.params.length;
  const losses = [];
  return {
    params,
    train: (steps) => {
      const t0 = performance.now();
      for (let s = 0; s < steps; s++) {
        const i = batchStart(s);
        let total = 0;
        for (let k = i; k < i + B; k++) total += trainer.train(vols[k], Y[k]).loss;   // updates every B examples
        losses.push(total / B);
      }
      return (steps * B) / ((performance.now() - t0) / 1000);
    },
    loss: () => [losses[0], losses[losses.length - 1]],
  };
}

// ---------------------------------------------------------------- rounds
const engines = { pyodide: await makePyodide(), tfjs: await makeTfjs(), convnetjs: makeConvnetjs() };
const names = Object.keys(engines);
// warm-up as long as a round: wasm code and caches warm up over the first steps, which made
// every engine's first round low
for (const name of names) engines[name].train(STEPS);
const rounds = [];
for (let r = 0; r < ROUNDS; r++) {
  const order = names.map((_, k) => names[(k + r) % names.length]);   // rotate who goes first
  const row = {};
  for (const name of order) row[name] = engines[name].train(STEPS);
  rounds.push(row);
  log(`round ${r + 1}/${ROUNDS}: ` + names.map((n) => `${n} ${row[n].toFixed(0)}`).join(", ") + " img/s");
}
const params = Object.fromEntries(names.map((n) => [n, engines[n].params]));
const loss = Object.fromEntries(names.map((n) => [n, Array.from(engines[n].loss())]));
console.log(JSON.stringify({ batch: B, steps: STEPS, params, rounds, loss }));
