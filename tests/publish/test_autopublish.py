"""Auto-publish rules on a real SQLite store, real imports (with each door's source label) and the
real Publisher: each mode, the grace window, rejections, duplicates, per-source separation."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from support.config import local_config
from support.rated import rated_frame, xmp_rating
from support.samples import sample_files

from appliance.ingest.importer import Importer
from appliance.publish.autopublish import AutoPublisher, validate
from appliance.publish.worker import Publisher
from appliance.store import Store, epoch

CARD = "card EOS_DIGITAL (/dev/sda1)"
FTP_A, FTP_B = "ftp camera-a", "ftp camera-b"


class Env:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.config = local_config(tmp_path, "[publish]\nlong_edge = 512\nthumb_edge = 160\n")
        self.config.ensure_folders()
        self.store = Store(self.config.db_path)
        self.event_id = self.store.ensure_event("party", "Party")
        self.publisher = Publisher(self.config, self.store)
        self.auto = AutoPublisher(self.store, self.publisher)
        self.n = 0

    def frames(self, count: int, **rating) -> list[Path]:  # noqa: ANN003
        """``count`` distinct real camera frames, optionally rated (see support.rated)."""
        out = []
        for _ in range(count):
            self.n += 1
            src = sample_files("gps/*.jpg")[self.n % 9]
            out.append(rated_frame(src, self.tmp / "frames" / f"IMG_{self.n:04d}.JPG",
                                   description=f"frame {self.n}", **rating))
        return out

    def import_(self, files: list[Path], source: str) -> list[int]:
        report = Importer(self.config, self.store).import_paths([(f, None) for f in files], source=source)
        assert report.summary()["imported"] == len(files), report.summary()
        ids = [self.store.scalar("SELECT id FROM photos WHERE original_name = ? ORDER BY id DESC", (f.name,))
               for f in files]
        return ids

    def rule(self, source: str, mode: str, value: int = 0) -> None:
        kind, _, name = source.partition(" ")
        kind = {"hot": "hotfolder"}.get(kind, kind)
        name = name if kind == "ftp" else ""
        validate(kind, mode, value)
        self.store.set_autopublish_rule(self.event_id, kind, name, mode, value)

    def queued(self) -> set[int]:
        return {r["photo_id"] for r in self.store.rows(
            "SELECT photo_id FROM publications WHERE event_id = ?", (self.event_id,))}

    def publications(self, photo_id: int) -> int:
        return int(self.store.scalar("SELECT COUNT(*) FROM publications WHERE photo_id = ?", (photo_id,)))


@pytest.fixture
def env(tmp_path):
    e = Env(tmp_path)
    yield e
    e.store.close()


def later(seconds: float) -> float:
    return time.time() + seconds


def test_off_by_default(env):
    ids = env.import_(env.frames(2), CARD)
    assert env.auto.tick(later(3600)) == 0
    assert env.queued() == set() and env.store.rows("SELECT * FROM autopublish_photos") == []
    assert all(env.publications(i) == 0 for i in ids)


def test_all_after_zero_seconds_publishes_through_the_real_publisher(env):
    env.rule(CARD, "all", 0)
    [photo] = env.import_(env.frames(1), CARD)
    assert env.auto.tick() == 1
    assert env.queued() == {photo}
    assert env.publisher.run_once()  # the same worker renders it
    pub = env.store.row("SELECT * FROM publications WHERE photo_id = ?", (photo,))
    assert pub["state"] == "published" and json.loads(pub["recipe"])["rotate"] == 0
    assert (env.config.folder("web") / "party" / "photos" / f"{pub['name']}.jpg").is_file()
    assert env.store.autopublish_photo(photo)["publication_id"] == pub["id"]
    # ticks after that never queue it again
    assert env.auto.tick(later(10)) == 0 and env.publications(photo) == 1


def test_grace_window_and_a_rejection_inside_it(env):
    env.rule(FTP_A, "all", 30)
    keep, reject = env.import_(env.frames(2), FTP_A)
    now = time.time()
    assert env.auto.tick(now) == 0
    waiting = {r["photo_id"]: r["due_at"] for r in env.store.autopublish_waiting(env.event_id)}
    imported = epoch(env.store.photo(keep)["imported_at"])
    assert waiting == {keep: imported + 30, reject: pytest.approx(imported + 30, abs=2)}
    env.store.reject_photo(reject, "2026-01-01T00:00:00Z")  # what the admin's reject does
    assert [r["photo_id"] for r in env.store.autopublish_waiting(env.event_id)] == [keep]
    assert env.auto.tick(imported + 29) == 0  # still inside the window
    assert env.auto.tick(imported + 33) == 1
    assert env.queued() == {keep}
    assert env.store.autopublish_photo(reject)["state"] == "skipped"
    assert env.store.autopublish_photo(reject)["reason"] == "rejected"
    env.store.unreject_photo(reject)  # restoring it later does not bring the rule back
    assert env.auto.tick(later(3600)) == 0 and env.publications(reject) == 0


def test_only_rated(env):
    env.rule(CARD, "rated", 3)
    two = env.import_(env.frames(1, rating=2), CARD)
    four = env.import_(env.frames(1, rating=4), CARD)
    xmp_five = env.import_(env.frames(1, xmp=xmp_rating(5)), CARD)
    percent_three = env.import_(env.frames(1, percent=50), CARD)
    unrated = env.import_(env.frames(1), CARD)
    ratings = [env.store.photo(i)["rating"] for i in (*two, *four, *xmp_five, *percent_three)]
    assert ratings == [2, 4, 5, 3]
    assert env.store.photo(unrated[0])["rating"] is None  # no rating tag at all
    assert env.auto.tick() == 3
    assert env.queued() == {four[0], xmp_five[0], percent_three[0]}


def test_only_protected(env):
    env.rule(CARD, "protected")
    plain, locked = env.frames(2)
    locked.chmod(0o444)  # what the kernel's vfat/exfat show for the FAT read-only attribute
    ids = env.import_([plain, locked], CARD)
    assert [env.store.photo(i)["protected"] for i in ids] == [0, 1]
    assert env.auto.tick() == 1 and env.queued() == {ids[1]}
    with pytest.raises(ValueError, match="no protect flag"):
        validate("ftp", "protected", 0)


def test_never_a_duplicate(env):
    env.rule(CARD, "all", 20)
    manual, button, unpublished = env.import_(env.frames(3), CARD)
    env.publisher.request(manual, {"rotate": 90})  # published by hand inside the window
    env.publisher.request(button, {})
    claimed = env.store.claim_publication()
    assert claimed and env.publisher.process(claimed)
    env.publisher.run_once()
    first = env.publisher.request(unpublished, {})
    env.publisher.process(env.store.claim_publication(first))
    env.publisher.unpublish(first)  # taken down by the photographer: the rule leaves it down
    assert env.auto.tick(later(60)) == 0
    for photo in (manual, button, unpublished):
        assert env.publications(photo) == 1
        assert env.store.autopublish_photo(photo)["state"] == "skipped"
    # the same file imported again (a card inserted twice) is a duplicate, not a new photo
    again = Importer(env.config, env.store).import_paths(
        [(env.tmp / "frames" / "IMG_0001.JPG", None)], source=CARD)
    assert again.summary()["duplicates"] == 1
    assert env.auto.tick(later(120)) == 0


def test_each_source_has_its_own_rule(env):
    env.rule(FTP_A, "all", 0)
    env.rule(FTP_B, "all", 600)
    card = env.import_(env.frames(1), CARD)
    hot = env.import_(env.frames(1), f"hot folder {env.tmp}/hot")
    a = env.import_(env.frames(1), FTP_A)
    b = env.import_(env.frames(1), FTP_B)
    other = env.import_(env.frames(1), str(env.tmp / "frames"))  # `appliance import PATH`
    assert env.auto.tick() == 1
    assert env.queued() == set(a)
    assert [r["photo_id"] for r in env.store.autopublish_waiting(env.event_id)] == b
    assert all(env.store.autopublish_photo(i) is None for i in (*card, *hot, *other))
    kinds = {r["source"]: (r["source_kind"], r["source_name"]) for r in env.store.rows(
        "SELECT source, source_kind, source_name FROM imports")}
    assert kinds[CARD] == ("card", "EOS_DIGITAL")
    assert kinds[FTP_B] == ("ftp", "camera-b")
    assert kinds[f"hot folder {env.tmp}/hot"] == ("hotfolder", f"{env.tmp}/hot")
    assert kinds[str(env.tmp / "frames")][0] == "other"


def test_a_rule_applies_only_to_photos_imported_after_it(env):
    before = env.import_(env.frames(2), CARD)
    env.rule(CARD, "all", 0)
    after = env.import_(env.frames(1), CARD)
    assert env.auto.tick() == 1 and env.queued() == set(after)
    # a second source's rule set later does not reach back either
    ftp_before = env.import_(env.frames(1), FTP_A)
    env.rule(FTP_A, "all", 0)
    assert env.auto.tick() == 0
    assert all(env.publications(i) == 0 for i in (*before, *ftp_before))


def test_changing_a_rule(env):
    env.rule(CARD, "all", 300)
    first, second = env.import_(env.frames(2), CARD)
    imported = epoch(env.store.photo(first)["imported_at"])
    env.auto.tick()
    env.rule(CARD, "all", 10)  # a shorter window: the waiting photos' deadline moves
    assert env.store.autopublish_photo(first)["due_at"] == imported + 10
    env.rule(CARD, "rated", 4)  # another mode: what waited under the old one is cancelled
    assert env.store.autopublish_photo(second)["state"] == "cancelled"
    assert env.auto.tick(later(600)) == 0 and env.queued() == set()


def test_a_rule_switched_off_while_a_batch_was_being_looked_at_publishes_nothing(env):
    """The rules are read, then the admin switches the rule off before the photos they matched are
    recorded as waiting (the cancel ran first): at publish time the rule is checked again."""
    env.rule(CARD, "all", 0)
    [photo] = env.import_(env.frames(1), CARD)
    env.auto.scan(env.event_id)  # matched under "all"...
    with env.store.transaction():  # ...and meanwhile the rule became "off" (the state the race leaves)
        env.store.conn.execute("UPDATE autopublish_rules SET mode = 'off'")
    assert env.auto.tick() == 0 and env.publications(photo) == 0
    assert env.store.autopublish_photo(photo)["state"] == "cancelled"


def test_a_photo_waiting_when_the_event_changes_is_not_published_elsewhere(env):
    env.rule(CARD, "all", 30)
    [photo] = env.import_(env.frames(1), CARD)
    env.auto.tick()
    other = env.store.ensure_event("next-day", "Next day")
    env.store.set_setting("current_event_id", other)
    assert env.auto.tick(later(60)) == 0
    assert env.store.autopublish_photo(photo)["state"] == "cancelled"
    assert env.publications(photo) == 0


def test_an_ftp_account_set_to_its_own_event_publishes_there(env):
    """The second shooter's camera goes to the ceremony gallery while the current event is the party."""
    from werkzeug.security import generate_password_hash

    ceremony = env.store.ensure_event("ceremony", "Ceremony")
    env.store.add_ftp_account("camera-b", generate_password_hash("x" * 8), event_id=ceremony)
    env.store.set_autopublish_rule(ceremony, "ftp", "camera-b", "all", 0)  # its rule, in its event
    env.rule(FTP_A, "all", 0)  # camera-a follows the current event (party)
    [a] = env.import_(env.frames(1), FTP_A)
    [b] = env.import_(env.frames(1), FTP_B)
    assert env.auto.tick() == 2
    events = {r["photo_id"]: r["event_id"] for r in env.store.rows("SELECT * FROM publications")}
    assert events == {a: env.event_id, b: ceremony}
    # the party's rule for camera-b (none here) does not matter, nor does switching events
    env.store.set_setting("current_event_id", ceremony)
    [b2] = env.import_(env.frames(1), FTP_B)
    assert env.auto.tick() == 1
    assert env.store.scalar("SELECT event_id FROM publications WHERE photo_id = ?", (b2,)) == ceremony


@pytest.mark.parametrize(("kind", "mode", "value", "message"), [
    ("ftp", "all", -1, "grace window"), ("card", "rated", 0, "1 to 5"), ("card", "rated", 6, "1 to 5"),
    ("hotfolder", "protected", 0, "protect flag"), ("other", "all", 0, "no auto-publish rules"),
    ("card", "sometimes", 0, "mode must be one of"),
])
def test_invalid_rules(kind, mode, value, message):
    with pytest.raises(ValueError, match=message):
        validate(kind, mode, value)


def _press(pin_number: int = 27) -> None:
    from gpiozero import Device

    pin = Device.pin_factory.pin(pin_number)
    pin.drive_low()  # pressed (pull-up)
    time.sleep(0.2)
    pin.drive_high()  # released before gpio.hold_seconds: a press


@pytest.mark.parametrize("latest_source", [FTP_A, "tether Canon EOS R5", CARD, "hot folder /srv/hot"])
def test_the_button_publishes_the_latest_frame_from_any_source(env, latest_source):
    """The GPIO button (gpiozero MockFactory) publishes the newest frame, whatever door it came
    through and whatever the rules; a rule waiting on that frame then never publishes it again."""
    from gpiozero import Device

    from appliance.device import gpio

    env.rule(FTP_A, "all", 60)
    env.rule("tether x", "all", 60)
    older = [s for s in (CARD, FTP_A, "tether Canon EOS R5", "hot folder /srv/hot") if s != latest_source]
    for n, source in enumerate(older):
        frame = rated_frame(sample_files("gps/*.jpg")[n], env.tmp / "old" / f"OLD_{n}.JPG",
                            description=f"old {n}")
        env.import_([frame], source)
    newest = stamped_frame(env, "2031:01:01 12:00:00")
    [latest] = env.import_([newest], latest_source)
    env.auto.tick()
    config = local_config(env.tmp, "[event]\nslug = \"party\"\n[gpio]\nmock = true\nbutton = 27\n")
    gpio.use_mock_pins()
    panel = gpio.StatusPanel(config.gpio, gpio.StoreActions(config, mock=True))
    try:
        _press()
        deadline = time.monotonic() + 10
        while not env.queued() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        panel.close()
        Device.pin_factory.reset()
    assert env.queued() == {latest}
    # the rules' turn: the older FTP and tether frames go; the button's frame is not published again
    ruled = sum(s in (FTP_A, "tether Canon EOS R5") for s in older)
    assert env.auto.tick(later(3600)) == ruled
    assert env.publications(latest) == 1


def stamped_frame(env: Env, when: str) -> Path:
    """A real frame whose EXIF capture time is ``when`` (the newest in the buffer)."""
    from support.images import stamped_jpeg

    return stamped_jpeg(sample_files("gps/*.jpg")[8], env.tmp / "new" / "NEWEST.JPG", when)


def test_a_frame_over_ftp_follows_its_accounts_rule(env):
    """Through the real FTP door (pyftpdlib on 127.0.0.1, ftplib): camera-a's frame is published at
    once, camera-b's (no rule) is not."""
    import ftplib
    import threading

    from support.polling import wait_for
    from werkzeug.security import generate_password_hash

    from appliance.ingest.ftp import FtpIngest

    for user in ("camera-a", "camera-b"):
        env.store.add_ftp_account(user, generate_password_hash("pw"))
    env.rule(FTP_A, "all", 0)
    ingest = FtpIngest(env.config, port=0)
    stop = threading.Event()
    thread = threading.Thread(target=ingest.serve, args=(lambda: not stop.is_set(),), daemon=True)
    thread.start()
    try:
        for user, frame in zip(("camera-a", "camera-b"), env.frames(2), strict=True):
            with ftplib.FTP() as ftp, open(frame, "rb") as handle:
                ftp.connect(*ingest.address, timeout=10)
                ftp.login(user, "pw")
                ftp.storbinary(f"STOR {frame.name}", handle)
        wait_for(lambda: env.store.scalar("SELECT COUNT(*) FROM photos") == 2, 20, "both frames imported")
    finally:
        stop.set()
        thread.join(timeout=30)
    assert env.auto.tick() == 1
    [queued] = env.queued()
    assert env.store.row("SELECT i.source FROM photos p JOIN imports i ON i.id = p.import_id WHERE p.id = ?",
                         (queued,))["source"] == FTP_A


class Runner:
    """A service runner for the publish loop in a thread, until told to stop."""

    def __init__(self) -> None:
        self.stop = threading.Event()

    def running(self) -> bool:
        return not self.stop.is_set()

    def ready(self, status: str, store: object = None) -> None: ...
    def status(self, text: str) -> None: ...
    def alive(self) -> None: ...

    def sleep(self, seconds: float) -> None:
        self.stop.wait(seconds)


def test_the_publish_service_applies_the_rules(env):
    """`appliance publish`'s loop: the grace window passes, the photo is rendered; the rejected one
    is not."""
    from support.polling import wait_for

    from appliance.publish import service

    env.rule(CARD, "all", 2)
    runner = Runner()
    thread = threading.Thread(target=lambda: service.run(env.config, Store(env.config.db_path), runner),
                              daemon=True)
    thread.start()
    try:
        keep, reject = env.import_(env.frames(2), CARD)
        env.store.reject_photo(reject, "2026-01-01T00:00:00Z")
        started = time.time()
        wait_for(lambda: env.store.scalar("SELECT state FROM publications WHERE photo_id = ?", (keep,))
                 == "published", 30, "the photo published by its rule")
        assert time.time() - started >= 0.5  # not before its window (2 s from its import, to the second)
        wait_for(lambda: (env.store.autopublish_photo(reject) or {}).get("state") == "skipped", 10,
                 "the rejected one skipped")
    finally:
        runner.stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert env.publications(reject) == 0


def test_an_ftp_accounts_user_role_decides_whether_its_frames_may_auto_publish(env):
    """A camera belongs to a user of the admin: a viewer's never auto-publishes, an editor's does,
    and a user made a viewer during a frame's grace window cancels it."""
    from werkzeug.security import generate_password_hash

    assistant = env.store.add_user("assistant", "viewer", "unused-hash")
    second = env.store.add_user("second", "editor", "unused-hash")
    env.store.add_ftp_account("camera-a", generate_password_hash("x" * 8), owner_id=assistant)
    env.store.add_ftp_account("camera-b", generate_password_hash("x" * 8), owner_id=second)
    env.rule(FTP_A, "all", 0)
    env.rule(FTP_B, "all", 0)
    [a] = env.import_(env.frames(1), FTP_A)
    [b] = env.import_(env.frames(1), FTP_B)
    assert env.auto.tick() == 1
    assert env.queued() == {b} and env.store.autopublish_photo(a) is None
    # promoted: the viewer's next frames publish (the one already looked at does not)
    env.store.set_user_role(assistant, "editor")
    [a2] = env.import_(env.frames(1), FTP_A)
    assert env.auto.tick() == 1 and env.queued() == {b, a2}
    # demoted inside the grace window: the waiting frame is cancelled, never published
    env.rule(FTP_B, "all", 60)
    [b2] = env.import_(env.frames(1), FTP_B)
    assert env.auto.tick() == 0 and env.store.autopublish_photo(b2)["state"] == "waiting"
    env.store.set_user_role(second, "viewer")
    assert env.auto.tick(later(120)) == 0
    assert env.store.autopublish_photo(b2)["state"] == "cancelled" and env.publications(b2) == 0
    # a removed user's camera counts as a viewer's
    env.store.set_user_role(second, "editor")
    env.store.disable_user(second)
    assert env.store.ftp_account_roles() == {"camera-a": "editor", "camera-b": "viewer"}


def test_the_publish_service_wakes_when_a_photo_is_recorded(env):
    """Idle, the service does not wait out its poll: the importer's commit wakes it (PRAGMA
    data_version), so a frame with the rule ``all, 0 s`` is rendered long before a 30 s poll."""
    from support.config import local_config
    from support.polling import wait_for

    from appliance.publish import service

    env.config = local_config(env.tmp, "[publish]\nlong_edge = 512\nthumb_edge = 160\npoll_seconds = 30\n")
    env.rule(CARD, "all", 0)
    runner = Runner()
    thread = threading.Thread(target=lambda: service.run(env.config, Store(env.config.db_path), runner),
                              daemon=True)
    thread.start()
    try:
        time.sleep(1.0)  # the service has ticked once and is idle, 29 s of its poll to go
        started = time.monotonic()
        [photo] = env.import_(env.frames(1), CARD)
        wait_for(lambda: env.store.scalar("SELECT state FROM publications WHERE photo_id = ?", (photo,))
                 == "published", 10, "the photo published without waiting for the poll")
        assert time.monotonic() - started < 10
    finally:
        runner.stop.set()
        thread.join(timeout=40)
    assert not thread.is_alive()
