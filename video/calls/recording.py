"""Recording a session: every participant's track remuxed with PyAV into a Matroska file, not re-encoded.

One file per track (``<session>/<participant>-<kind>-<n>.mkv`` under the recordings folder): H.264 or VP8
video from its first keyframe, Opus audio from its first packet. Timestamps are the sender's own (RTP
clock, from the first frame), so the file's duration is the time the track was recorded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from video.calls.forwarding import Source
from video.calls.media import clock_rate
from video.passthrough import EncodedUnit

log = logging.getLogger(__name__)
STREAM_CODECS = {"video/h264": "h264", "video/vp8": "vp8", "audio/opus": "opus"}


@dataclass(frozen=True)
class RecordedFile:
    """One finished recording file."""

    path: Path
    participant: str
    kind: str
    codec: str
    frames: int
    duration_s: float
    bytes: int

    def describe(self, root: Path) -> dict[str, object]:
        """For the API and the case timeline (path relative to the media root)."""
        return {"path": str(self.path.relative_to(root)) if self.path.is_relative_to(root) else str(self.path),
                "participant": self.participant, "kind": self.kind, "codec": self.codec, "frames": self.frames,
                "duration_s": round(self.duration_s, 3), "bytes": self.bytes}


class TrackRecorder:
    """Writes one source's encoded frames to a file as they come (opened at the first usable frame)."""

    def __init__(self, path: Path, source: Source) -> None:
        self.path = path
        self.source = source
        self.frames = 0
        self.failed = False
        self._container: av.container.OutputContainer | None = None
        self._stream: av.stream.Stream | None = None
        self._codec = ""
        self._time_base = Fraction(1, clock_rate(source.kind))
        self._first: int | None = None
        self._last = -1

    def write(self, source: Source, unit: EncodedUnit) -> None:
        """Append one frame (a Source sink)."""
        if self.failed:
            return
        try:
            if self._container is None and not self._open(unit):
                return
            pts = max((unit.pts or 0) - (self._first or 0), self._last + 1)
            packet = av.Packet(unit.data)
            packet.pts = packet.dts = pts
            packet.time_base = self._time_base
            packet.stream = self._stream
            packet.is_keyframe = unit.keyframe
            self._container.mux(packet)  # type: ignore[union-attr]
            self._last = pts
            self.frames += 1
        except (av.FFmpegError, OSError, ValueError):
            log.exception("recording %s failed; the track is no longer recorded", self.path)
            self.failed = True

    def _open(self, unit: EncodedUnit) -> bool:
        codec = STREAM_CODECS.get(self.source.codec or "")
        if codec is None or not unit.keyframe:
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._container = av.open(str(self.path), "w", format="matroska")
        self._container.metadata["title"] = self.source.owner
        stream = self._container.add_stream(codec, rate=clock_rate(self.source.kind) if codec == "opus" else None)
        stream.time_base = self._time_base
        self._stream, self._codec, self._first = stream, codec, unit.pts or 0
        return True

    def close(self) -> RecordedFile | None:
        """Finish the file; None when nothing was written."""
        self.source.sinks[:] = [s for s in self.source.sinks if s != self.write]
        if self._container is None:
            return None
        try:
            self._container.close()
        except (av.FFmpegError, OSError):
            log.exception("closing recording %s failed", self.path)
        self._container = None
        duration = (self._last + 1) * self._time_base if self.frames else 0
        size = self.path.stat().st_size if self.path.exists() else 0
        return RecordedFile(self.path, self.source.owner, self.source.kind, self._codec, self.frames,
                            float(duration), size)


class SessionRecording:
    """The recorders of one session: one per source, added as sources appear, closed as they go."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files: list[RecordedFile] = []
        self._recorders: dict[int, TrackRecorder] = {}
        self._counter = 0

    def add(self, source: Source) -> None:
        """Start recording a source (no-op if it already is)."""
        if id(source) in self._recorders:
            return
        self._counter += 1
        recorder = TrackRecorder(self.folder / f"{source.owner}-{source.kind}-{self._counter}.mkv", source)
        self._recorders[id(source)] = recorder
        source.sinks.append(recorder.write)

    def remove(self, source: Source) -> None:
        """Stop recording a source (it left); its file is kept."""
        recorder = self._recorders.pop(id(source), None)
        if recorder is not None and (done := recorder.close()) is not None:
            self.files.append(done)

    def sync(self, sources: list[Source]) -> None:
        """Record exactly these sources: new ones start, gone ones are closed."""
        wanted = {id(s): s for s in sources}
        for key in [k for k in self._recorders if k not in wanted]:
            self.remove(self._recorders[key].source)
        for source in sources:
            self.add(source)

    def close(self) -> list[RecordedFile]:
        """Close every file; all files of the session."""
        for recorder in list(self._recorders.values()):
            self.remove(recorder.source)
        return self.files
