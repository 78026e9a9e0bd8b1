// Decoder of an event's face index (faces.bin, format v1), written by the appliance
// (appliance/publish/face_index.py; the format is described in docs/faces.md). Pure: no DOM.
//
// Little-endian. Header (20 bytes): "FIDX", u8 version 1, u8 kind 1 (int8), u16 dims 128,
// u32 photo count P, u32 face count F, u32 names length L; L bytes of UTF-8 photo names joined
// with "\n"; zero padding to a multiple of 4; F records of 140 bytes: u32 photo index,
// u16 x, y, w, h (fractions x 65535), int8[128] descriptor (q / 127).

export const MAGIC = "FIDX";
export const VERSION = 1;
export const KIND_INT8 = 1;
export const DIMS = 128;
export const HEADER_SIZE = 20;
export const RECORD_SIZE = 12 + DIMS;
const BOX_SCALE = 65535;

function fail(why) {
  throw new Error(`face index: ${why}`);
}

/**
 * Decode a faces.bin.
 * @param {ArrayBuffer} buffer
 * @returns {{version: number, dims: number, names: string[],
 *   faces: {photo: string, box: {x: number, y: number, w: number, h: number}, descriptor: Float32Array}[]}}
 * @throws {Error} on a bad magic, version or kind, or a truncated file.
 */
export function decode(buffer) {
  if (!(buffer instanceof ArrayBuffer)) fail("expected an ArrayBuffer");
  if (buffer.byteLength < HEADER_SIZE) fail(`truncated: ${buffer.byteLength} bytes, the header is ${HEADER_SIZE}`);
  const view = new DataView(buffer);
  const magic = String.fromCharCode(...new Uint8Array(buffer, 0, 4));
  if (magic !== MAGIC) fail(`bad magic ${JSON.stringify(magic)}`);
  const version = view.getUint8(4);
  if (version !== VERSION) fail(`version ${version} is not supported (only ${VERSION})`);
  const kind = view.getUint8(5);
  const dims = view.getUint16(6, true);
  if (kind !== KIND_INT8 || dims !== DIMS) fail(`kind ${kind} with ${dims} dims is not supported`);
  const photoCount = view.getUint32(8, true);
  const faceCount = view.getUint32(12, true);
  const length = view.getUint32(16, true);
  const start = HEADER_SIZE + length + ((4 - (length % 4)) % 4);
  const expected = start + faceCount * RECORD_SIZE;
  if (buffer.byteLength !== expected) {
    fail(`truncated or padded: ${buffer.byteLength} bytes, the header says ${expected}`);
  }
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array(buffer, HEADER_SIZE, length));
  } catch {
    fail("photo names are not UTF-8");
  }
  const names = photoCount === 0 ? [] : text.split("\n");
  if (names.length !== photoCount) fail(`${names.length} photo names, the header says ${photoCount}`);
  const q = new Int8Array(buffer);
  const faces = new Array(faceCount);
  for (let i = 0; i < faceCount; i += 1) {
    const at = start + i * RECORD_SIZE;
    const photo = view.getUint32(at, true);
    if (photo >= photoCount) fail(`face ${i} belongs to photo ${photo}, there are ${photoCount}`);
    const box = {
      x: view.getUint16(at + 4, true) / BOX_SCALE,
      y: view.getUint16(at + 6, true) / BOX_SCALE,
      w: view.getUint16(at + 8, true) / BOX_SCALE,
      h: view.getUint16(at + 10, true) / BOX_SCALE,
    };
    const descriptor = new Float32Array(DIMS);
    for (let d = 0; d < DIMS; d += 1) descriptor[d] = q[at + 12 + d] / 127;
    faces[i] = { photo: names[photo], box, descriptor };
  }
  return { version, dims, names, faces };
}

/**
 * The faces of several indexes (a shared event: one per appliance) as one list. Photo names are
 * unique across appliances (tagged with the appliance id), so a photo's faces come from one index.
 * @param {{v: number, src: string}[]} indexes
 * @param {(ix: {v: number, src: string}) => Promise<ArrayBuffer>} get fetches one index
 */
export async function decodeAll(indexes, get) {
  const buffers = await Promise.all(indexes.map(get));
  return buffers.flatMap((b) => decode(b).faces);
}
