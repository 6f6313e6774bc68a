import pytest

from storage import keys
from storage.keys import InvalidTaskId
from storage.records import TaskStatus, allowed

pytestmark = pytest.mark.unit


def test_new_task_ids_are_valid_and_sort_by_creation():
    ids = [keys.new_task_id() for _ in range(50)]
    assert all(keys.validate_task_id(i) == i for i in ids)
    import time

    time.sleep(0.002)
    later = keys.new_task_id()
    assert ids == sorted(ids) and later > ids[-1]


@pytest.mark.parametrize(
    "bad", ["../etc/passwd", "", "abc", "0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B", "x" * 500, None, "a/b"]
)
def test_bad_task_ids_are_refused(bad):
    with pytest.raises(InvalidTaskId):
        keys.validate_task_id(bad)


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\talk.mp3", "talk.mp3"),
        ("meeting notes (final).m4a", "meeting_notes_final.m4a"),
        ("会议.wav", "upload.wav"),
        (".bashrc", "bashrc"),
        ("report.tar.gz", "report.tar.gz"),
        ("...", "upload"),
        (None, "upload"),
        ("a" * 300 + ".wav", "a" * 96 + ".wav"),
    ],
)
def test_safe_filename(name, safe):
    assert keys.safe_filename(name) == safe


def test_state_machine():
    assert allowed(TaskStatus.QUEUED, TaskStatus.PROCESSING)
    assert allowed(TaskStatus.PROCESSING, TaskStatus.TRANSCRIPTION_COMPLETED)
    assert allowed(TaskStatus.ALIGNMENT_COMPLETED, TaskStatus.COMPLETED)
    assert allowed(TaskStatus.DIARIZATION_PROCESSING, TaskStatus.PROCESSING)  # takeover restarts
    assert allowed(TaskStatus.TRANSCRIPTION_PROCESSING, TaskStatus.FAILED)
    assert not allowed(TaskStatus.ALIGNMENT_COMPLETED, TaskStatus.TRANSCRIPTION_PROCESSING)
    assert not allowed(TaskStatus.COMPLETED, TaskStatus.PROCESSING)
    assert not allowed(TaskStatus.FAILED, TaskStatus.COMPLETED)
