// A photo's pixels for face-api's nets without a full-size tensor.
//
// face-api makes the detector's input from an image tensor by padding it to a square (zeros at the
// bottom or right) and resizing that to 512 x 512 (NetInput.toBatchTensor, tf.image.resizeBilinear,
// no corner alignment, no half-pixel centres), and cuts each face out of the same tensor
// (extractFaceTensors). For a 2048 px photo that is ~130 MB of WebAssembly memory per photo (the
// int32 image, its padded square, the zeros), which the WASM heap keeps for good. Here the same
// numbers come from the RGB bytes directly: the 512 x 512 input computed as TensorFlow.js's WASM
// kernel computes it (float32, the same interpolation order), and each face's crop sliced out of
// the bytes; only those go to TensorFlow.js (3 MB plus the faces).

export const DETECTOR_SIZE = 512;

const f32 = Math.fround;

/** The detector's input: the photo zero-padded to a square and resized to `size` x `size` the way
 * tfjs-backend-wasm's ResizeBilinear does (alignCorners false, halfPixelCenters false), float32 RGB. */
export function detectorInput(pixels, width, height, size = DETECTOR_SIZE) {
  const side = Math.max(width, height);
  const scale = f32(side / size);
  const out = new Float32Array(size * size * 3);
  // per output column: the two source columns (byte offsets in a row, -1 in the padding) and the weight
  const left = new Int32Array(size);
  const right = new Int32Array(size);
  const dxs = new Float32Array(size);
  for (let x = 0; x < size; x++) {
    const src = f32(scale * x);
    const l = Math.floor(src);
    const r = Math.min(side - 1, Math.ceil(src));
    left[x] = l < width ? l * 3 : -1;
    right[x] = r < width ? r * 3 : -1;
    dxs[x] = f32(src - l);
  }
  const zeros = new Uint8Array(width * 3);
  let o = 0;
  for (let y = 0; y < size; y++) {
    const src = f32(scale * y);
    const t = Math.floor(src);
    const b = Math.min(side - 1, Math.ceil(src));
    const dy = f32(src - t);
    const top = t < height ? pixels.subarray(t * width * 3, (t + 1) * width * 3) : zeros;
    const bottom = b < height ? pixels.subarray(b * width * 3, (b + 1) * width * 3) : zeros;
    for (let x = 0; x < size; x++) {
      const l = left[x];
      const r = right[x];
      const dx = dxs[x];
      for (let c = 0; c < 3; c++) {
        const tl = l < 0 ? 0 : top[l + c];
        const tr = r < 0 ? 0 : top[r + c];
        const bl = l < 0 ? 0 : bottom[l + c];
        const br = r < 0 ? 0 : bottom[r + c];
        const upper = f32(tl + f32((tr - tl) * dx));
        const lower = f32(bl + f32((br - bl) * dx));
        out[o++] = f32(upper + f32((lower - upper) * dy));
      }
    }
  }
  return out;
}

/** A face-api NetInput whose batch tensor is the detector input made above (face-api's
 * locateFaces reads the photo's size and the padding from it, as from its own NetInput). With
 * `outputs` ({boxes, scores}: Float32Arrays of the detector's outputs for this photo, computed by
 * ONNX Runtime, detector.py), networkOutputs() gives them as tensors instead. */
export function preparedInput(tf, faceapi, pixels, width, height, outputs = null) {
  class PreparedInput extends faceapi.NetInput {
    constructor() {
      super([]);
      this._batchSize = 1;
      this._inputDimensions = [[height, width, 3]];
    }

    networkOutputs() {
      if (!outputs) throw new Error("this frame came without the detector's outputs");
      this._inputSize = DETECTOR_SIZE;
      return {
        boxes: tf.tensor2d(outputs.boxes, [outputs.scores.length, 4], "float32"),
        scores: tf.tensor1d(outputs.scores, "float32"),
      };
    }

    toBatchTensor(inputSize) {
      if (inputSize !== DETECTOR_SIZE) throw new Error(`detector input is ${DETECTOR_SIZE}, not ${inputSize}`);
      this._inputSize = inputSize;
      return tf.tensor4d(detectorInput(pixels, width, height), [1, inputSize, inputSize, 3], "float32");
    }
  }
  return new PreparedInput();
}

/** The rectangles face-api's extractFaceTensors cuts for regions (FaceDetections or boxes in
 * pixels): each clipped at the photo's borders and floored, as [x, y, w, h] integers (w or h 0 for
 * a region outside the photo). */
export function cropBoxes(faceapi, width, height, regions) {
  return regions
    .map((r) => (r instanceof faceapi.FaceDetection ? r.forSize(width, height).box : r))
    .map((box) => box.clipAtImageBorders(width, height))
    .map(({ x, y, width: w, height: h }) => [x, y, Math.max(0, w), Math.max(0, h)]);
}

/** face-api's extractFaceTensors on the bytes: each region's crop (cropBoxes; empty ones left
 * out, as face-api does) as an int32 [h, w, 3] tensor. */
export function faceTensors(tf, faceapi, pixels, width, height, regions) {
  return cropBoxes(faceapi, width, height, regions)
    .filter(([, , w, h]) => w > 0 && h > 0)
    .map(([x, y, w, h]) => {
      const crop = new Int32Array(w * h * 3);
      for (let row = 0; row < h; row++) {
        const from = ((y + row) * width + x) * 3;
        crop.set(pixels.subarray(from, from + w * 3), row * w * 3);
      }
      return tf.tensor3d(crop, [h, w, 3], "int32");
    });
}
