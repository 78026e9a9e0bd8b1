"""Editing in bands while the JPEG decodes gives the picture a whole-frame edit gives."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw
from support.images import marked_pattern, mean_diff, psnr, save_jpeg
from support.samples import sample

from appliance.imaging import band_thread, bands, pipeline
from appliance.imaging.recipe import Recipe

RECIPES = [
    Recipe(),
    Recipe(exposure=0.7),
    Recipe(rotate=90, straighten=-4.5),
    Recipe(straighten=7.0, scale=1.3),
    Recipe(rotate=270, exposure=-0.5, scale=0.6),
]


def render_whole(path: Path, recipe: Recipe, long_edge: int, monkeypatch: pytest.MonkeyPatch
                 ) -> Image.Image:
    """The same render with the JPEG loaded whole first (one band)."""
    with monkeypatch.context() as patch:
        patch.setattr(pipeline, "streamable", lambda image: False)
        return pipeline.render(path, recipe, long_edge)


def noise_jpeg(path: Path, size: tuple[int, int], sigma: float) -> Path:
    """A grey noise JPEG: data that compresses little, so a small feed decodes few rows."""
    return save_jpeg(path, Image.effect_noise(size, sigma).convert("RGB"), quality=92)


@pytest.fixture
def fed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Small bands (8 rows, 2 KB of data at a time); the row counts handed to the band thread."""
    monkeypatch.setattr(bands, "BAND_ROWS", (8, 8))
    monkeypatch.setattr(bands, "FEED_BYTES", 2048)
    counts: list[int] = []
    real = band_thread.BandThread.rows_ready
    monkeypatch.setattr(band_thread.BandThread, "rows_ready",
                        lambda self, frame, rows: (counts.append(rows), real(self, frame, rows)))
    return counts


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("recipe", RECIPES, ids=lambda r: "-".join(f"{k}{v:g}" for k, v in
                                                                 r.to_dict().items() if v) or "plain")
def test_banded_render_matches_the_whole_frame(orientation, recipe, fed, monkeypatch):
    """Every orientation and edit, in bands of 8 rows: the same picture (rounding apart)."""
    path = sample(f"orientation/landscape_{orientation}.jpg")
    banded = pipeline.render(path, recipe, 300)
    whole = render_whole(path, recipe, 300, monkeypatch)
    assert len(fed) > 5 and fed == sorted(fed)  # really in bands, top to bottom
    assert banded.size == whole.size and banded.mode == "RGB"
    # sub-box resampling rounds a little differently; a misplaced band would differ by far more
    worst = max(high for _, high in ImageChops.difference(banded, whole).getextrema())
    assert worst <= 6 and mean_diff(banded, whole) < 0.5


def test_every_stored_orientation_straightens_the_same_way():
    """The turn is made on the stored frame (mirrored for 2, 4, 5, 7): it must still come out
    clockwise. The samples are separate JPEG encodes of one scene (~25 dB apart unedited)."""
    first = sample("orientation/landscape_1.jpg")
    clockwise = pipeline.render(first, Recipe(straighten=6), 400)
    anticlockwise = pipeline.render(first, Recipe(straighten=-6), 400)
    for orientation in range(2, 9):
        other = pipeline.render(sample(f"orientation/landscape_{orientation}.jpg"),
                                Recipe(straighten=6), 400)
        assert psnr(other, clockwise) > 22, orientation
        assert psnr(other, clockwise) > psnr(other, anticlockwise) + 8, orientation


def test_decoding_in_bands_is_the_plain_decode(tmp_path, monkeypatch):
    path = save_jpeg(tmp_path / "p.jpg", marked_pattern((640, 480)), quality=92)
    monkeypatch.setattr(bands, "FEED_BYTES", 1024)
    counts: list[int] = []
    with Image.open(path) as image:
        assert bands.streamable(image)
        frame = bands.decode_in_bands(image, lambda f, rows: counts.append(rows))
    with Image.open(path) as image:
        image.load()
        assert frame.tobytes() == image.tobytes()
    assert counts == sorted(counts) and 0 < counts[0] < 480 and counts[-1] <= 480


def test_bands_shrink_towards_the_last_row(tmp_path, monkeypatch):
    """Large bands while much is left to decode, small ones at the end (less left to do then)."""
    path = noise_jpeg(tmp_path / "p.jpg", (320, 1200), 40)
    monkeypatch.setattr(bands, "FEED_BYTES", 2048)
    monkeypatch.setattr(bands, "BAND_ROWS", (16, 160))
    counts: list[int] = []
    with Image.open(path) as image:
        bands.decode_in_bands(image, lambda f, rows: counts.append(rows))
    steps = [b - a for a, b in zip([0, *counts], counts, strict=False)]
    assert steps[0] >= 160 and steps[-1] < 40 and len(counts) > 6, counts
    for before, step in zip([0, *counts], steps, strict=False):
        assert step >= bands.band_rows(1200 - before - step)  # never handed on before it is due
    assert bands.band_rows(10_000) == 160 and bands.band_rows(30) == 16
    counts.clear()  # decoding only the top half (a crop): bands shrink towards that row instead
    with Image.open(path) as image:
        bands.decode_in_bands(image, lambda f, rows: counts.append(rows), rows_needed=600)
    assert counts[-1] < 600 and counts[-1] - counts[-2] < 40


def test_the_same_pixels_however_late_the_band_thread_runs(tmp_path, monkeypatch):
    """A band thread that falls behind (a busy Pi) still makes the bands the file dictates, and
    the bands it had not made when the decode ended are shared with the decoding thread: the
    photo renders to the same bytes every time (a preview is exactly what gets published)."""
    path = noise_jpeg(tmp_path / "p.jpg", (900, 1400), 60)
    monkeypatch.setattr(bands, "FEED_BYTES", 4096)
    monkeypatch.setattr(bands, "BAND_ROWS", (16, 16))
    recipe = Recipe(straighten=3.5, exposure=0.4)
    prompt = pipeline.render(path, recipe, 600).tobytes()
    real = bands.Bands.run
    makers: list[tuple[str, str]] = []

    def late(self, frame, task):  # tasks pile up in the queue meanwhile
        makers.append((threading.current_thread().name, task.kind))
        if threading.current_thread().name == "bands":
            time.sleep(0.004)
        real(self, frame, task)

    monkeypatch.setattr(bands.Bands, "run", late)
    assert pipeline.render(path, recipe, 600).tobytes() == prompt
    by_main = [kind for name, kind in makers if name == "MainThread"]
    assert by_main and len(by_main) < len(makers)  # the decoding thread helped with what was left


def test_a_failing_band_fails_the_render_and_stops_both_threads(tmp_path, monkeypatch):
    path = noise_jpeg(tmp_path / "p.jpg", (600, 900), 60)
    monkeypatch.setattr(bands, "FEED_BYTES", 4096)
    monkeypatch.setattr(bands, "BAND_ROWS", (16, 16))
    real = bands.Bands.run
    made: list[int] = []

    def broken(self, frame, task):
        if task.kind == bands.TURN and task.start > 100:
            raise MemoryError("no room for the band")
        made.append(task.start)
        real(self, frame, task)

    monkeypatch.setattr(bands.Bands, "run", broken)
    before = threading.active_count()
    with pytest.raises(MemoryError, match="no room"):
        pipeline.render(path, Recipe(straighten=2.0), 400)
    assert threading.active_count() == before  # the band thread is gone too
    assert made


def test_progressive_cmyk_and_grey_jpegs_are_loaded_whole(tmp_path):
    colour = marked_pattern((320, 240))
    progressive = save_jpeg(tmp_path / "p.jpg", colour, progressive=True)
    cmyk = save_jpeg(tmp_path / "c.jpg", colour.convert("CMYK"))
    grey = save_jpeg(tmp_path / "g.jpg", colour.convert("L"))
    for path in (progressive, cmyk, grey):
        with Image.open(path) as image:
            assert not bands.streamable(image)
        assert pipeline.render(path, Recipe(straighten=3), 200).mode == "RGB"


def test_truncated_data_fails_while_decoding_in_bands(tmp_path):
    image = Image.effect_noise((800, 600), 60).convert("RGB")
    ImageDraw.Draw(image).rectangle((100, 100, 500, 400), fill=(200, 30, 30))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    path = tmp_path / "cut.jpg"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with Image.open(path) as opened:
        assert bands.streamable(opened)
    with pytest.raises(pipeline.ImageError, match="truncated"):
        pipeline.render(path, Recipe(exposure=1), 400)


def test_a_failed_decode_drops_the_bands_still_waiting(tmp_path, monkeypatch):
    """The error is reported without first editing every band queued behind a slow thread."""
    path = noise_jpeg(tmp_path / "p.jpg", (600, 1600), 60)
    path.write_bytes(path.read_bytes()[: path.stat().st_size * 3 // 4])
    monkeypatch.setattr(bands, "FEED_BYTES", 2048)
    monkeypatch.setattr(bands, "BAND_ROWS", (8, 8))
    handed, done = [], []
    real_ready, real_rows = band_thread.BandThread.rows_ready, bands.Bands.rows_ready
    monkeypatch.setattr(band_thread.BandThread, "rows_ready",
                        lambda self, frame, rows: (handed.append(rows), real_ready(self, frame, rows)))

    def slow(self, frame, rows):
        time.sleep(0.01)
        done.append(rows)
        real_rows(self, frame, rows)

    monkeypatch.setattr(bands.Bands, "rows_ready", slow)
    with pytest.raises(pipeline.ImageError, match="truncated"):
        pipeline.render(path, Recipe(exposure=1), 400)
    assert len(handed) > 30 and len(done) < len(handed) // 2


@pytest.mark.parametrize("angle", [2.0, -6.0])
def test_straighten_samples_a_denser_image_than_the_output(tmp_path, monkeypatch, angle):
    """Bilinear sampling at the output's own density blurs; the denser intermediate is measurably
    closer to a full-size bicubic straighten resized down (the naive pipeline's result)."""
    w, h = 2400, 1600
    detail = Image.merge("RGB", [Image.effect_noise((w // 3, h // 3), 50 + 9 * band).resize(
        (w, h), Image.Resampling.BICUBIC) for band in range(3)])
    draw = ImageDraw.Draw(detail)
    for x in range(0, w, 37):
        draw.line((x, 0, x + 300, h), fill=(250, 240, 30), width=3)
    path = save_jpeg(tmp_path / "detail.jpg", detail)
    recipe = Recipe(straighten=angle)
    plan = pipeline.plan((w, h), 1, recipe, 800)
    cw, ch = w * plan.crop, h * plan.crop
    reference = detail.rotate(-angle, Image.Resampling.BICUBIC).crop(
        (round((w - cw) / 2), round((h - ch) / 2), round((w + cw) / 2), round((h + ch) / 2))
    ).resize(plan.output, Image.Resampling.LANCZOS)
    dense = pipeline.render(path, recipe, 800)
    monkeypatch.setattr(bands, "STRAIGHTEN_DENSITY", 1.0)
    plain = pipeline.render(path, recipe, 800)
    assert psnr(dense, reference) > psnr(plain, reference) + 1.0


@pytest.mark.parametrize("method", [None, *Image.Transpose])
def test_an_affine_from_the_upright_image_is_the_transpose(method):
    """A straightened band is turned upright by its affine transform itself (no transposed copy):
    the folded mapping, sampled pixel for pixel, is exactly the transpose."""
    probe = Image.effect_noise((7, 5), 80).convert("RGB")
    turned = probe if method is None else probe.transpose(method)
    mapping = bands.stored_from_display(method, probe.size)
    assert probe.transform(turned.size, Image.Transform.AFFINE, mapping,
                           Image.Resampling.NEAREST).tobytes() == turned.tobytes()
    identity = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    x0, y0, x1, y1 = bands.moved_box(method, (0, 2, 7, 4), probe.size)  # a band of rows 2..4
    band = probe.transform((x1 - x0, y1 - y0), Image.Transform.AFFINE,
                           bands.upright_affine(identity, method, probe.size, (x0, y0)),
                           Image.Resampling.NEAREST)
    assert band.tobytes() == turned.crop((x0, y0, x1, y1)).tobytes()


def test_moved_box_agrees_with_transpose():
    probe = Image.new("L", (7, 5))
    box = (1, 2, 4, 5)
    probe.paste(255, box)
    for method in [None, *Image.Transpose]:
        moved = probe if method is None else probe.transpose(method)
        assert moved.getbbox() == bands.moved_box(method, box, probe.size), method


def test_the_decoded_row_count_is_never_too_high():
    """Rows below the count are decoded; a decoded pixel that matches the canary lowers it."""
    frame = Image.new("RGB", (4, 40), bands.CANARY)
    frame.paste((9, 9, 9), (0, 0, 4, 25))  # 25 rows decoded...
    frame.putpixel((3, 12), bands.CANARY)  # ...one of them ending in the canary colour
    for known in (0, 5, 13):
        rows = bands._complete_rows(frame, known)
        assert known <= rows <= 25 and rows in (12, 25)
    frame.paste((9, 9, 9), (0, 0, 4, 40))
    assert bands._complete_rows(frame, 30) == 40


def test_a_zoom_stops_decoding_below_the_rows_it_uses(tmp_path, fed, monkeypatch):
    path = save_jpeg(tmp_path / "p.jpg", marked_pattern((1200, 900)), quality=92)
    zoomed = pipeline.render(path, Recipe(scale=2.0), 600)
    assert fed and max(fed) < 900 * 0.85  # the bottom quarter of the frame was never decoded
    whole = render_whole(path, Recipe(scale=2.0), 600, monkeypatch)
    assert mean_diff(zoomed, whole) < 0.5


@pytest.mark.parametrize("size", [(1001, 1517), (1203, 797)])
def test_a_reduced_decode_of_an_odd_sized_photo_is_not_stretched(tmp_path, size):
    """At 1/4 scale a 1001 px side decodes to 251 px, the last covering one original pixel: the
    mapping is 1/4, not 251/1001 (that stretches the picture by up to a pixel)."""
    grain = Image.effect_noise((size[0] // 16, size[1] // 16), 90).resize(size, Image.Resampling.BICUBIC)
    path = save_jpeg(tmp_path / "odd.jpg", Image.merge("RGB", (grain, grain.transpose(
        Image.Transpose.FLIP_LEFT_RIGHT), grain.transpose(Image.Transpose.FLIP_TOP_BOTTOM))),
        quality=95)  # detail a few output pixels across: a shift of a pixel shows
    reference_full = Image.open(path).convert("RGB")
    for recipe in (Recipe(), Recipe(scale=0.7), Recipe(scale=1.6)):
        out = pipeline.render(path, recipe, 256)
        p = pipeline.plan(size, 1, recipe, 256)
        w, h = size[0] * p.crop, size[1] * p.crop
        box = ((size[0] - w) / 2, (size[1] - h) / 2, (size[0] + w) / 2, (size[1] + h) / 2)
        reference = reference_full.resize(out.size, Image.Resampling.LANCZOS, box=box)
        assert psnr(out, reference) > 35, recipe  # 19-34 dB with the 251/1001 mapping
