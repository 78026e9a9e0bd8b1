"""Camera-like test JPEGs for the benches (../shared/BENCH.md): noise and detail, EXIF orientation 6."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageChops, ImageDraw, ImageFilter


def tiled_noise(size: tuple[int, int], sigma: float, shift: int) -> Image.Image:
    """Gaussian sensor noise, tiled from one 1031 px square (drawing 45 M fresh values takes seconds)."""
    tile = Image.effect_noise((1031, 1031), sigma)
    plane = Image.new("L", size)
    for y in range(-shift, size[1], 1031):
        for x in range(-shift, size[0], 1031):
            plane.paste(tile, (x, y))
    return plane


def camera_like(size: tuple[int, int], seed: int, quality: int = 95) -> bytes:
    """A JPEG like a camera's: smooth light, shapes with hard edges, texture, noise, q95, EXIF 6."""
    w, h = size
    rng = random.Random(seed)
    light = Image.merge("RGB", (Image.linear_gradient("L").resize((w, h)),
                                Image.radial_gradient("L").resize((w, h)),
                                Image.linear_gradient("L").rotate(90).resize((w, h))))
    texture = Image.merge("RGB", [Image.effect_noise((w // 3, h // 3), 50).resize(
        (w, h), Image.Resampling.BICUBIC) for _ in range(3)])
    image = Image.blend(light, texture, 0.35)
    draw = ImageDraw.Draw(image)
    for i in range(400):
        x, y, r = rng.randrange(w), rng.randrange(h), rng.randrange(20, w // 12)
        colour = tuple(rng.randrange(256) for _ in range(3))
        if i % 3 == 0:
            draw.ellipse((x, y, x + r, y + r), outline=colour, width=rng.randrange(2, 12))
        elif i % 3 == 1:
            draw.rectangle((x, y, x + r, y + r // 2), fill=colour)
        else:
            draw.line((x, y, x + rng.randrange(-w // 4, w // 4), y + rng.randrange(-h // 4, h // 4)),
                      fill=colour, width=rng.randrange(1, 6))
    image = image.filter(ImageFilter.BoxBlur(0.6))  # lens and demosaicing softness
    noise = Image.merge("RGB", [tiled_noise((w, h), 8, shift) for shift in (0, 397, 811)])
    image = ImageChops.add(image, noise, 1.0, -128)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F], exif[0x0110] = "BenchCam", f"{size[0] * size[1] / 1e6:.0f} MP"
    # Stored sideways, as a camera held upright writes it.
    stored = image.transpose(Image.Transpose.ROTATE_90)
    buffer = io.BytesIO()
    stored.save(buffer, "JPEG", quality=quality, exif=exif.tobytes())
    return buffer.getvalue()
