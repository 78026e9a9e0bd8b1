// face-api's ssdMobilenetv1 forward pass with fused TensorFlow.js ops: the same weights, layers and
// output as face-api 1.7.15's src/ssdMobilenetv1 (mobileNetV1.ts, predictionLayer.ts, outputLayer.ts),
// only computed with fewer kernels. face-api runs every layer as conv + add (+ batchNorm) +
// clipByValue, four passes over memory; here a layer is one tf.fused conv with its bias and relu6
// (the depthwise layers' batch norm folded into their filters and bias once, at load). On the WASM
// backend that is about a third less time for the detector (docs/faces.md). Boxes and scores agree
// with face-api's own forward pass to float rounding (tests/imaging/test_face_engine.py).
//
// Use: installFusedDetector(tf, faceapi) after the nets are loaded; it replaces forwardInput of
// faceapi.nets.ssdMobilenetv1 only (locateFaces, non-max suppression and the boxes stay face-api's).

const EPSILON = 0.0010000000474974513; // face-api's batch norm epsilon

function pointwise(tf, p) {
  return { filter: p.filters, bias: p.batch_norm_offset };
}

/** Batch norm folded into the depthwise filter: y = (conv(x, f) - mean) * g / sqrt(var + eps) + beta. */
function depthwise(tf, p) {
  return tf.tidy(() => {
    const k = tf.div(p.batch_norm_scale, tf.sqrt(tf.add(p.batch_norm_variance, EPSILON)));
    const filter = tf.mul(p.filters, tf.reshape(k, [1, 1, -1, 1]));
    const bias = tf.sub(p.batch_norm_offset, tf.mul(p.batch_norm_mean, k));
    return { filter, bias };
  });
}

/** The folded parameters of a loaded face-api SsdMobilenetv1 (kept for the worker's life). */
export function foldParams(tf, params) {
  const m = params.mobilenetv1;
  const pairs = [];
  for (let i = 1; i <= 13; i++) {
    pairs.push({ dw: depthwise(tf, m[`conv_${i}`].depthwise_conv), pw: pointwise(tf, m[`conv_${i}`].pointwise_conv) });
  }
  const p = params.prediction_layer;
  return {
    conv0: pointwise(tf, m.conv_0),
    pairs,
    extra: [0, 1, 2, 3, 4, 5, 6, 7].map((i) => pointwise(tf, p[`conv_${i}`])),
    boxes: [0, 1, 2, 3, 4, 5].map((i) => p[`box_predictor_${i}`]),
    extraDim: params.output_layer.extra_dim,
  };
}

const relu6 = (tf, x, { filter, bias }, strides) => tf.fused.conv2d({ x, filter, strides, pad: "same", bias, activation: "relu6" });
const dwRelu6 = (tf, x, { filter, bias }, strides) => tf.fused.depthwiseConv2d({ x, filter, strides, pad: "same", bias, activation: "relu6" });
const linear = (tf, x, { filters, bias }) => tf.fused.conv2d({ x, filter: filters, strides: [1, 1], pad: "same", bias });

/** face-api's decodeBoxesLayer (outputLayer.ts): anchors x0 and encodings x1 to [y0, x0, y1, x1]. */
function decodeBoxes(tf, anchors, encodings) {
  const a = tf.unstack(tf.transpose(anchors, [1, 0]));
  const sizes = [tf.sub(a[2], a[0]), tf.sub(a[3], a[1])];
  const centers = [tf.add(a[0], tf.div(sizes[0], 2)), tf.add(a[1], tf.div(sizes[1], 2))];
  const v = tf.unstack(tf.transpose(encodings, [1, 0]));
  const half0 = tf.div(tf.mul(tf.exp(tf.div(v[2], 5)), sizes[0]), 2);
  const c0 = tf.add(tf.mul(tf.div(v[0], 10), sizes[0]), centers[0]);
  const half1 = tf.div(tf.mul(tf.exp(tf.div(v[3], 5)), sizes[1]), 2);
  const c1 = tf.add(tf.mul(tf.div(v[1], 10), sizes[1]), centers[1]);
  return tf.transpose(tf.stack([tf.sub(c0, half0), tf.sub(c1, half1), tf.add(c0, half0), tf.add(c1, half1)]), [1, 0]);
}

/** y = f(x), then x disposed: only the layers still needed stay in memory (tf.tidy alone would
 * keep all of them, ~100 MB at 512 x 512, until the end). */
function next(tf, x, f, keep) {
  const y = f(x);
  if (!keep.includes(x)) tf.dispose(x);
  return y;
}

/** The forward pass: {boxes: [Tensor2D per image], scores: [Tensor1D per image]} as face-api's. */
export function forward(tf, folded, input) {
  return tf.tidy(() => {
    let x = tf.cast(input.toBatchTensor(512, false), "float32");
    const n = x.shape[0];
    x = next(tf, x, (t) => tf.sub(tf.div(t, 127.5), 1), []);
    const keep = [];
    x = next(tf, x, (t) => relu6(tf, t, folded.conv0, [2, 2]), keep);
    folded.pairs.forEach(({ dw, pw }, i) => {
      const strides = [2, 4, 6, 12].includes(i + 1) ? [2, 2] : [1, 1];
      x = next(tf, next(tf, x, (t) => dwRelu6(tf, t, dw, strides), keep), (t) => relu6(tf, t, pw, [1, 1]), keep);
      if (i + 1 === 11) keep.push(x); // conv11: the first box predictor's input
    });
    keep.push(x); // the mobilenet's output: the second box predictor's input
    const e = folded.extra;
    const c1 = next(tf, relu6(tf, x, e[0], [1, 1]), (t) => relu6(tf, t, e[1], [2, 2]), keep);
    const c3 = next(tf, relu6(tf, c1, e[2], [1, 1]), (t) => relu6(tf, t, e[3], [2, 2]), keep);
    const c5 = next(tf, relu6(tf, c3, e[4], [1, 1]), (t) => relu6(tf, t, e[5], [2, 2]), keep);
    const c7 = next(tf, relu6(tf, c5, e[6], [1, 1]), (t) => relu6(tf, t, e[7], [2, 2]), keep);
    const heads = [keep[0], x, c1, c3, c5, c7].map((t, i) => ({
      box: tf.reshape(linear(tf, t, folded.boxes[i].box_encoding_predictor), [n, -1, 1, 4]),
      cls: tf.reshape(linear(tf, t, folded.boxes[i].class_predictor), [n, -1, 3]),
    }));
    const encodings = tf.concat(heads.map((h) => h.box), 1);
    const classes = tf.concat(heads.map((h) => h.cls), 1);
    let boxes = decodeBoxes(tf, tf.reshape(tf.tile(folded.extraDim, [n, 1, 1]), [-1, 4]), tf.reshape(encodings, [-1, 4]));
    boxes = tf.reshape(boxes, [n, boxes.shape[0] / n, 4]);
    const scores = tf.reshape(tf.slice(tf.sigmoid(tf.slice(classes, [0, 0, 1], [-1, -1, -1])), [0, 0, 0], [-1, -1, 1]), [n, -1]);
    return { boxes: tf.unstack(boxes), scores: tf.unstack(scores) };
  });
}

/** Make faceapi.nets.ssdMobilenetv1 (loaded) run its forward pass fused; returns the folded params. */
export function installFusedDetector(tf, faceapi) {
  const net = faceapi.nets.ssdMobilenetv1;
  if (!net.params) throw new Error("load ssdMobilenetv1 before installing the fused detector");
  const folded = foldParams(tf, net.params);
  net.forwardInput = (input) => forward(tf, folded, input);
  return folded;
}
