"""A short demo video and its captions, made in pure Python: the demo content
needs a real, playable MP4 on any machine, without network or ffmpeg.

The MP4 holds one H.264 track (Constrained Baseline) whose pictures are coded as
I_PCM macroblocks: raw samples, no transform and no prediction, so every
decoder plays them and the encoder fits in a page. Each picture is an IDR frame
shown for a few seconds; a still slideshow is all the demo needs, and the file
stays small (about 15 KB a picture at 128×72).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Pixel = tuple[int, int, int]
Painter = Callable[[int, int], Pixel]

TIMESCALE = 1000  # media time units per second (milliseconds)


# --- H.264 bitstream -------------------------------------------------------------------


class _Bits:
    def __init__(self) -> None:
        self._bits: list[int] = []

    def u(self, count: int, value: int) -> None:
        self._bits.extend((value >> shift) & 1 for shift in range(count - 1, -1, -1))

    def ue(self, value: int) -> None:
        # Exp-Golomb: as many leading zeros as value + 1 has bits after its first.
        code = value + 1
        self.u(code.bit_length() - 1, 0)
        self.u(code.bit_length(), code)

    def se(self, value: int) -> None:
        self.ue(2 * value - 1 if value > 0 else -2 * value)

    def align_zero(self) -> None:
        while len(self._bits) % 8:
            self._bits.append(0)

    def raw(self, data: bytes) -> None:
        assert len(self._bits) % 8 == 0, "raw bytes must start on a byte boundary"
        for byte in data:
            self.u(8, byte)

    def trailing(self) -> bytes:
        """rbsp_trailing_bits: a stop bit, then zeros to the byte boundary."""
        self._bits.append(1)
        self.align_zero()
        out = bytearray()
        for start in range(0, len(self._bits), 8):
            byte = 0
            for bit in self._bits[start : start + 8]:
                byte = (byte << 1) | bit
            out.append(byte)
        return bytes(out)


def _nal(ref_idc: int, unit_type: int, rbsp: bytes) -> bytes:
    """A NAL unit: header byte and payload with emulation prevention (a 0x03
    after two zero bytes that are followed by a byte up to 0x03)."""
    out = bytearray([(ref_idc << 5) | unit_type])
    zeros = 0
    for byte in rbsp:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


@dataclass(frozen=True)
class _Geometry:
    width: int
    height: int

    @property
    def mbs_wide(self) -> int:
        return (self.width + 15) // 16

    @property
    def mbs_high(self) -> int:
        return (self.height + 15) // 16

    @property
    def crop_bottom(self) -> int:
        # In 4:2:0 the crop offset counts pairs of rows.
        return (self.mbs_high * 16 - self.height) // 2

    @property
    def crop_right(self) -> int:
        return (self.mbs_wide * 16 - self.width) // 2


PROFILE_BASELINE = 66
CONSTRAINED_BASELINE_FLAGS = 0xC0  # constraint_set0 and constraint_set1
LEVEL = 30


def _sps(geometry: _Geometry) -> bytes:
    bits = _Bits()
    bits.u(8, PROFILE_BASELINE)
    bits.u(8, CONSTRAINED_BASELINE_FLAGS)
    bits.u(8, LEVEL)
    bits.ue(0)  # seq_parameter_set_id
    bits.ue(0)  # log2_max_frame_num_minus4
    bits.ue(2)  # pic_order_cnt_type: output order is decoding order
    bits.ue(1)  # max_num_ref_frames
    bits.u(1, 0)  # gaps_in_frame_num_value_allowed_flag
    bits.ue(geometry.mbs_wide - 1)
    bits.ue(geometry.mbs_high - 1)
    bits.u(1, 1)  # frame_mbs_only_flag
    bits.u(1, 1)  # direct_8x8_inference_flag
    cropped = geometry.crop_bottom or geometry.crop_right
    bits.u(1, 1 if cropped else 0)
    if cropped:
        bits.ue(0)
        bits.ue(geometry.crop_right)
        bits.ue(0)
        bits.ue(geometry.crop_bottom)
    bits.u(1, 0)  # vui_parameters_present_flag
    return _nal(3, 7, bits.trailing())


def _pps() -> bytes:
    bits = _Bits()
    bits.ue(0)  # pic_parameter_set_id
    bits.ue(0)  # seq_parameter_set_id
    bits.u(1, 0)  # entropy_coding_mode_flag: CAVLC
    bits.u(1, 0)  # bottom_field_pic_order_in_frame_present_flag
    bits.ue(0)  # num_slice_groups_minus1
    bits.ue(0)  # num_ref_idx_l0_default_active_minus1
    bits.ue(0)  # num_ref_idx_l1_default_active_minus1
    bits.u(1, 0)  # weighted_pred_flag
    bits.u(2, 0)  # weighted_bipred_idc
    bits.se(0)  # pic_init_qp_minus26
    bits.se(0)  # pic_init_qs_minus26
    bits.se(0)  # chroma_qp_index_offset
    bits.u(1, 1)  # deblocking_filter_control_present_flag
    bits.u(1, 0)  # constrained_intra_pred_flag
    bits.u(1, 0)  # redundant_pic_cnt_present_flag
    return _nal(3, 8, bits.trailing())


def _clamp(value: float) -> int:
    # PCM samples of 0 were reserved in the first edition of H.264: keep 1..255.
    return max(1, min(255, round(value)))


def _yuv(pixel: Pixel) -> tuple[int, int, int]:
    """BT.601 limited range, as decoders assume without colour information."""
    r, g, b = pixel
    y = 16 + 0.257 * r + 0.504 * g + 0.098 * b
    u = 128 - 0.148 * r - 0.291 * g + 0.439 * b
    v = 128 + 0.439 * r - 0.368 * g - 0.071 * b
    return _clamp(y), _clamp(u), _clamp(v)


def _idr_slice(geometry: _Geometry, paint: Painter, idr_pic_id: int) -> bytes:
    width, height = geometry.mbs_wide * 16, geometry.mbs_high * 16
    luma = [[0] * width for _ in range(height)]
    cb = [[0] * (width // 2) for _ in range(height // 2)]
    cr = [[0] * (width // 2) for _ in range(height // 2)]
    for row in range(height):
        for column in range(width):
            # Rows and columns past the visible picture repeat its edge (cropped away).
            y, u, v = _yuv(paint(min(column, geometry.width - 1), min(row, geometry.height - 1)))
            luma[row][column] = y
            if row % 2 == 0 and column % 2 == 0:
                cb[row // 2][column // 2], cr[row // 2][column // 2] = u, v

    bits = _Bits()
    bits.ue(0)  # first_mb_in_slice
    bits.ue(7)  # slice_type: I, and every slice of the picture is I
    bits.ue(0)  # pic_parameter_set_id
    bits.u(4, 0)  # frame_num (log2_max_frame_num = 4); 0 in an IDR picture
    bits.ue(idr_pic_id)
    bits.u(1, 0)  # no_output_of_prior_pics_flag
    bits.u(1, 0)  # long_term_reference_flag
    bits.se(0)  # slice_qp_delta
    bits.ue(1)  # disable_deblocking_filter_idc: nothing to smooth in raw samples
    for mb_row in range(geometry.mbs_high):
        for mb_column in range(geometry.mbs_wide):
            bits.ue(25)  # mb_type I_PCM
            bits.align_zero()  # pcm_alignment_zero_bits
            top, left = mb_row * 16, mb_column * 16
            bits.raw(bytes(luma[top + r][left + c] for r in range(16) for c in range(16)))
            for plane in (cb, cr):
                bits.raw(
                    bytes(plane[top // 2 + r][left // 2 + c] for r in range(8) for c in range(8))
                )
    return _nal(3, 5, bits.trailing())


# --- MP4 container ---------------------------------------------------------------------


def _box(kind: bytes, *parts: bytes) -> bytes:
    payload = b"".join(parts)
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _full_box(kind: bytes, version: int, flags: int, *parts: bytes) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags), *parts)


_MATRIX = struct.pack(">9I", 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000)


def _moov(geometry, sps, pps, sample_sizes, durations, data_offset) -> bytes:
    total = sum(durations)
    mvhd = _full_box(
        b"mvhd",
        0,
        0,
        struct.pack(">IIII", 0, 0, TIMESCALE, total),
        struct.pack(">IH", 0x00010000, 0x0100),
        bytes(10),
        _MATRIX,
        bytes(24),
        struct.pack(">I", 2),  # next_track_ID
    )
    tkhd = _full_box(
        b"tkhd",
        0,
        3,  # enabled, in movie
        struct.pack(">IIIII", 0, 0, 1, 0, total),
        bytes(8),
        struct.pack(">hhhH", 0, 0, 0, 0),
        _MATRIX,
        struct.pack(">II", geometry.width << 16, geometry.height << 16),
    )
    mdhd = _full_box(
        b"mdhd",
        0,
        0,
        struct.pack(">IIIIHH", 0, 0, TIMESCALE, total, 0x55C4, 0),  # "und"
    )
    hdlr = _full_box(b"hdlr", 0, 0, struct.pack(">I4s12x", 0, b"vide"), b"VideoHandler\x00")
    avcc = _box(
        b"avcC",
        bytes([1, PROFILE_BASELINE, CONSTRAINED_BASELINE_FLAGS, LEVEL, 0xFF, 0xE1]),
        struct.pack(">H", len(sps)),
        sps,
        bytes([1]),
        struct.pack(">H", len(pps)),
        pps,
    )
    avc1 = _box(
        b"avc1",
        bytes(6),
        struct.pack(">H", 1),  # data_reference_index
        bytes(16),
        struct.pack(">HH", geometry.width, geometry.height),
        struct.pack(">II", 0x00480000, 0x00480000),  # 72 dpi
        struct.pack(">IH", 0, 1),  # frame_count
        bytes(32),  # compressorname
        struct.pack(">Hh", 0x0018, -1),
        avcc,
    )
    stts_entries = b"".join(struct.pack(">II", 1, duration) for duration in durations)
    stbl = _box(
        b"stbl",
        _full_box(b"stsd", 0, 0, struct.pack(">I", 1), avc1),
        _full_box(b"stts", 0, 0, struct.pack(">I", len(durations)), stts_entries),
        _full_box(b"stsc", 0, 0, struct.pack(">IIII", 1, 1, len(sample_sizes), 1)),
        _full_box(
            b"stsz",
            0,
            0,
            struct.pack(">II", 0, len(sample_sizes)),
            b"".join(struct.pack(">I", size) for size in sample_sizes),
        ),
        _full_box(b"stco", 0, 0, struct.pack(">II", 1, data_offset)),
    )
    minf = _box(
        b"minf",
        _full_box(b"vmhd", 0, 1, bytes(8)),
        _box(b"dinf", _full_box(b"dref", 0, 0, struct.pack(">I", 1), _full_box(b"url ", 0, 1))),
        stbl,
    )
    trak = _box(b"trak", tkhd, _box(b"mdia", mdhd, hdlr, minf))
    return _box(b"moov", mvhd, trak)


def slideshow_mp4(
    pictures: Sequence[Painter], *, width: int, height: int, seconds_each: float
) -> bytes:
    """An MP4 file showing each picture for ``seconds_each`` seconds. A picture
    is a function of (x, y) giving an (r, g, b) colour. Width and height must be
    even; the moov box comes first, so a browser can start playing at once."""
    if width % 2 or height % 2:
        raise ValueError("width and height must be even in 4:2:0")
    geometry = _Geometry(width, height)
    sps, pps = _sps(geometry), _pps()
    samples = [
        struct.pack(">I", len(nal)) + nal
        for nal in (
            _idr_slice(geometry, paint, idr_pic_id=number % 2)
            for number, paint in enumerate(pictures)
        )
    ]
    durations = [round(seconds_each * TIMESCALE)] * len(samples)
    ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isom", b"iso2", b"avc1", b"mp41")
    # The moov box's size does not depend on the offset it records: build it
    # once to learn where the media data starts, then again with that offset.
    probe = _moov(geometry, sps, pps, [len(s) for s in samples], durations, 0)
    data_offset = len(ftyp) + len(probe) + 8
    moov = _moov(geometry, sps, pps, [len(s) for s in samples], durations, data_offset)
    return ftyp + moov + _box(b"mdat", *samples)


# --- The demo clip ---------------------------------------------------------------------

DEMO_WIDTH, DEMO_HEIGHT = 128, 72
DEMO_SECONDS_EACH = 2.0


def _dawn(x: int, y: int) -> Pixel:
    """A sun rising over fields of agave."""
    if (x - 64) ** 2 + (y - 44) ** 2 < 14**2:
        return (250, 200, 60)
    if y >= 44:
        return (70, 130, 90) if (x // 8) % 2 else (90, 150, 100)
    return (240 - y, 150 + y, 120 + 2 * y)


def _still(x: int, y: int) -> Pixel:
    """Copper stills in a cooperative's shed."""
    if y >= 56:
        return (120, 90, 60)
    for centre in (36, 92):
        if (x - centre) ** 2 + (y - 38) ** 2 < 15**2:
            return (190, 110, 60)
    return (230, 220, 200)


def _bridge(x: int, y: int) -> Pixel:
    """A bridge over a river: Puente."""
    arch = 20 + ((x - 64) ** 2) // 140
    if 30 <= y <= 34 or (y > arch and y < 50 and x % 24 < 4):
        return (60, 60, 70)
    if y >= 50:
        return (40, 110, 170)
    return (150, 200, 235)


def demo_clip_mp4() -> bytes:
    """Six seconds, three pictures: the clip the demo story shows."""
    return slideshow_mp4(
        [_dawn, _still, _bridge],
        width=DEMO_WIDTH,
        height=DEMO_HEIGHT,
        seconds_each=DEMO_SECONDS_EACH,
    )


DEMO_CAPTIONS = {
    "en": [
        "At dawn the agave fields of Jerez wake up.",
        "In the cooperative, Lucía checks the copper stills.",
        "Money from neighbours abroad helped build this bridge to the market.",
    ],
    "es": [
        "Al amanecer despiertan los campos de agave de Jerez.",
        "En la cooperativa, Lucía revisa los alambiques de cobre.",
        "El dinero de vecinos en el extranjero ayudó a construir este puente al mercado.",
    ],
    "fr": [
        "À l'aube, les champs d'agave de Jerez se réveillent.",
        "À la coopérative, Lucía vérifie les alambics en cuivre.",
        "L'argent des voisins partis à l'étranger a aidé à construire ce pont vers le marché.",
    ],
    "pt": [
        "Ao amanhecer, os campos de agave de Jerez despertam.",
        "Na cooperativa, Lucía verifica os alambiques de cobre.",
        "O dinheiro de vizinhos no estrangeiro ajudou a construir esta ponte para o mercado.",
    ],
    "ar": [
        "عند الفجر تستيقظ حقول الأغاف في خيريس.",
        "في التعاونية، تتفقّد لوسيا أجهزة التقطير النحاسية.",
        "ساعدت أموال الجيران المقيمين في الخارج على بناء هذا الجسر نحو السوق.",
    ],
}


def _timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    return f"{millis // 3_600_000:02d}:{millis // 60_000 % 60:02d}:{millis // 1000 % 60:02d}.{millis % 1000:03d}"


def webvtt(cues: Sequence[str], *, seconds_each: float) -> bytes:
    """A WebVTT file with one cue per picture of a slideshow."""
    lines = ["WEBVTT", ""]
    for number, text in enumerate(cues):
        start, end = number * seconds_each, (number + 1) * seconds_each
        lines += [str(number + 1), f"{_timestamp(start)} --> {_timestamp(end)}", text, ""]
    return "\n".join(lines).encode()


def demo_captions(language: str) -> bytes:
    return webvtt(DEMO_CAPTIONS[language], seconds_each=DEMO_SECONDS_EACH)
