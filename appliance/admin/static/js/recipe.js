// The editor's recipe (exposure, rotation, straighten, zoom): limits, the preview URL, the body the
// publish API takes and the CSS that approximates an edit until the server's render arrives. Pure.

export const LIMITS = { exposure: [-2, 2, 0.1], straighten: [-10, 10, 0.5], scale: [1, 2, 0.05] };

export const neutral = () => ({ exposure: 0, rotate: 0, straighten: 0, scale: 1 });

export function previewUrl(id, r, watermarkVersion) {
  const q = new URLSearchParams({ exposure: r.exposure.toFixed(2), rotate: r.rotate, straighten: r.straighten.toFixed(2),
    scale: r.scale.toFixed(2), v: watermarkVersion ?? 0 });
  return `/api/preview/${id}?${q}`;
}

export function recipeBody(r) {
  const out = {};
  for (const k of ["exposure", "straighten"]) if (r[k]) out[k] = Math.round(r[k] * 100) / 100;
  if (r.rotate) out.rotate = r.rotate;
  if (r.scale !== 1) out.scale = Math.round(r.scale * 100) / 100;
  return out;
}

// The CSS transform and filter that turn the shown render `s` into roughly recipe `r`.
export function approxStyle(r, s) {
  const turn = r.rotate - s.rotate + (r.straighten - s.straighten);
  const zoom = r.scale / s.scale;
  const gain = Math.pow(2, (r.exposure - s.exposure) / 2.2);
  return { transform: turn || zoom !== 1 ? `rotate(${turn}deg) scale(${zoom})` : "",
    filter: gain !== 1 ? `brightness(${gain.toFixed(3)})` : "" };
}

