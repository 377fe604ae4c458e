"""Progress display: a line every few seconds off a terminal, nothing when quiet, a bar on a terminal."""

import io

from importer.deliver.progress import UNDO, UNDO_CHECK, Progress
from importer.records import Status


class Clock:
    now = 0.0

    def __call__(self):
        return self.now


def test_lines_every_interval_when_not_a_terminal():
    clock, out = Clock(), io.StringIO()
    progress = Progress(100, stream=out, interval_s=5.0, clock=clock)
    for i in range(40):
        clock.now = i * 0.25  # 4 rows a second for ~10 s
        progress.update(Status.FAILED if i % 10 == 0 else Status.CREATED)
    progress.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2  # at 5 s (the 21st row), then the final line on close
    assert lines[0] == "sent 21/100 rows: 18 created, 3 failed; 4.2 rows/s, ETA 0m19s"
    assert lines[-1].startswith("sent 40/100 rows: 36 created, 4 failed")


def test_quiet_writes_nothing():
    out = io.StringIO()
    progress = Progress(10, quiet=True, stream=out)
    for _ in range(10):
        progress.update(Status.CREATED)
    progress.close()
    assert out.getvalue() == "" and progress.counts[Status.CREATED] == 10


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_a_bar_with_counts_on_a_terminal():
    out = Tty()
    progress = Progress(3, stream=out)
    for status in (Status.CREATED, Status.CREATED, Status.FAILED):
        progress.update(status)
    progress.close()
    text = out.getvalue()
    assert "3/3" in text and "created=2" in text and "failed=1" in text and "row" in text


def test_rows_in_doubt_and_rows_a_stop_left_unsent_are_not_done():
    for out in (io.StringIO(), Tty()):
        progress = Progress(10, stream=out, clock=Clock())
        for _ in range(4):
            progress.update(Status.CREATED)
        progress.update(Status.FAILED, in_doubt=True)  # no answer: set aside until the store is checked
        progress.update(Status.FAILED, in_doubt=True)
        progress.settled(Status.CREATED)  # the store has it
        for _ in range(4):
            progress.update(Status.NOT_SENT)  # Ctrl-C
        progress.close()
        text = out.getvalue()
        assert "10/10" not in text and "100%" not in text and "5/10" in text
    assert text.count("created=5") >= 1
    plain = Progress(10, stream=io.StringIO(), clock=Clock())
    plain.update(Status.CREATED)
    plain.update(Status.FAILED, in_doubt=True)
    plain.update(Status.NOT_SENT)
    assert plain.line().startswith("sent 1/10 rows: 1 created, 0 failed, 1 in doubt, 1 not sent")


def test_an_undo_line_says_what_it_deleted_and_kept_and_its_dry_run_what_it_would_delete():
    clock = Clock()
    undo = Progress(4, quiet=True, clock=clock, wording=UNDO)
    check = Progress(4, quiet=True, clock=clock, wording=UNDO_CHECK)
    clock.now = 2.0
    for status in (Status.DELETED, Status.DELETED, Status.KEPT):
        undo.update(status)
    for status in (Status.VALID, Status.KEPT):
        check.update(status)
    assert undo.line() == "undone 3/4 rows: 2 deleted, 1 kept, 0 failed; 1.5 rows/s, ETA 0m01s"
    assert check.line() == "checked 2/4 rows: 1 to delete, 1 kept, 0 failed; 1.0 rows/s, ETA 0m02s"


def test_a_run_that_waited_out_a_row_in_doubt_prints_its_final_line_once():
    clock, out = Clock(), io.StringIO()
    progress = Progress(2, stream=out, interval_s=5.0, clock=clock)
    progress.update(Status.CREATED)
    progress.update(Status.FAILED, in_doubt=True)  # its answer was lost: checked after the settle window
    clock.now = 12.0
    progress.settled(Status.CREATED)  # the store has it: the last row is done
    clock.now = 12.5
    progress.close()
    lines = out.getvalue().splitlines()
    assert [line.split(";")[0] for line in lines] == ["sent 2/2 rows: 2 created, 0 failed"]
