"""Video files with WebVTT captions in stories and lessons: the demo clip (a real
MP4 made without ffmpeg), the <video> and <track> markup, the files served, and
the checks on what an editor uploads or attaches."""

import re
import struct

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from wagtail import blocks
from wagtail.documents import get_document_model
from wagtail.documents.forms import get_document_form

from cms.blocks import VideoBlock
from cms.content.video import DEMO_CAPTIONS, demo_captions, demo_clip_mp4, slideshow_mp4, webvtt
from cms.media import CAPTIONS_MAX_BYTES, is_webvtt
from cms.models import LessonPage, ReturneeStoryPage
from portal.uploads import sniff_content_type

Document = get_document_model()


def _boxes(data: bytes, start: int = 0, end: int | None = None) -> dict[bytes, bytes]:
    """Top-level ISO base media boxes of ``data[start:end]``, by type."""
    end = len(data) if end is None else end
    boxes = {}
    while start < end:
        size, kind = struct.unpack(">I4s", data[start : start + 8])
        assert size >= 8, (kind, size)
        boxes[kind] = data[start + 8 : start + size]
        start += size
    assert start == end
    return boxes


def test_demo_clip_is_a_well_formed_mp4():
    data = demo_clip_mp4()
    assert sniff_content_type(data[:32]) == "video/mp4"
    assert 10_000 < len(data) < 100_000
    boxes = _boxes(data)
    assert list(boxes) == [b"ftyp", b"moov", b"mdat"]
    moov = boxes[b"moov"]
    mvhd = _boxes(moov)[b"mvhd"]
    timescale, duration = struct.unpack(">II", mvhd[12:20])
    assert duration / timescale == 6
    # The sample sizes and chunk offset point exactly at the frames in mdat.
    stsz = moov[moov.index(b"stsz") + 4 :]
    count = struct.unpack(">I", stsz[8:12])[0]
    sizes = struct.unpack(f">{count}I", stsz[12 : 12 + 4 * count])
    offset = struct.unpack(">I", moov[moov.index(b"stco") + 12 : moov.index(b"stco") + 16])[0]
    assert count == 3 and sum(sizes) == len(boxes[b"mdat"])
    assert offset == len(data) - len(boxes[b"mdat"])
    first_nal = struct.unpack(">I", data[offset : offset + 4])[0]
    assert first_nal == sizes[0] - 4 and data[offset + 4] & 0x1F == 5  # an IDR slice
    assert b"avc1" in moov and b"avcC" in moov
    assert struct.unpack(">HH", moov[moov.index(b"avc1") + 28 : moov.index(b"avc1") + 32]) == (
        128,
        72,
    )


def test_slideshow_refuses_odd_sizes():
    with pytest.raises(ValueError):
        slideshow_mp4([lambda x, y: (0, 0, 0)], width=15, height=10, seconds_each=1)


def test_demo_captions_are_webvtt_in_every_language():
    english, spanish = demo_captions("en").decode(), demo_captions("es").decode()
    assert english.startswith("WEBVTT\n\n1\n00:00:00.000 --> 00:00:02.000\n")
    assert "00:00:04.000 --> 00:00:06.000" in english and "agave" in english
    assert "Lucía revisa los alambiques" in spanish
    assert "Lucía vérifie les alambics" in demo_captions("fr").decode()
    assert "Lucía verifica os alambiques" in demo_captions("pt").decode()
    assert "لوسيا" in demo_captions("ar").decode()
    assert is_webvtt(webvtt(["Hi"], seconds_each=1))


@pytest.mark.parametrize(
    ("head", "valid"),
    [
        (b"WEBVTT\n", True),
        (b"WEBVTT", True),
        (b"\xef\xbb\xbfWEBVTT - captions\n", True),
        (b"WEBVTTX\n", False),
        (b"webvtt\n", False),
        (b"1\n00:00:00.000 --> 00:00:01.000\n", False),
        (b"<html>WEBVTT", False),
    ],
)
def test_webvtt_is_recognised_by_its_first_line(head, valid):
    assert is_webvtt(head) is valid


# --- The demo story ------------------------------------------------------------------------


@pytest.fixture
def story(cms_seeded):
    return ReturneeStoryPage.objects.get(slug="lucia-mezcal-jerez", locale__language_code="en")


LANGUAGES = ["en", "es", "fr", "pt", "ar"]


def _tracks(html: str) -> list[dict]:
    return [
        dict(re.findall(r'(\w+)="([^"]*)"', tag)) | {"default": " default" in tag}
        for tag in re.findall(r"<track [^>]*>", html)
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_story_shows_the_video_with_a_caption_track_per_language(story, client, language):
    page = (
        story if language == "en" else story.get_translations().get(locale__language_code=language)
    )
    html = client.get(page.url).content.decode()
    video = re.search(r"<video [^>]*>.*?</video>", html, re.S).group(0)
    assert 'preload="none"' in video and "controls" in video
    source = re.search(r'<source src="([^"]+)" type="video/mp4">', video).group(1)
    assert source.startswith("/documents/") and source.endswith(".mp4")
    tracks = _tracks(video)
    assert [(t["kind"], t["srclang"]) for t in tracks] == [("captions", code) for code in LANGUAGES]
    assert {t["label"] for t in tracks} == {
        "English",
        "Español",
        "Français",
        "Português",
        "العربية",
    }
    # The captions in the page's language are on by default, only those.
    assert [t["srclang"] for t in tracks if t["default"]] == [language]
    assert all(t["src"].startswith("/documents/") and t["src"].endswith(".vtt") for t in tracks)
    assert DEMO_CAPTIONS[language][0] in html.replace("&#x27;", "'")  # the transcript


def test_caption_files_and_video_are_served(story, client):
    html = client.get(story.url).content.decode()
    for track in _tracks(html):
        response = client.get(track["src"])
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/vtt")
        body = b"".join(response.streaming_content)
        assert body.startswith(b"WEBVTT")
        assert DEMO_CAPTIONS[track["srclang"]][0].encode() in body
    source = re.search(r'<source src="([^"]+)"', html).group(1)
    response = client.get(source)
    assert response.status_code == 200 and response["Content-Type"] == "video/mp4"
    assert sniff_content_type(b"".join(response.streaming_content)[:32]) == "video/mp4"


def test_seeding_again_adds_no_second_video(story):
    from cms.demo import seed_cms

    documents = Document.objects.count()
    seed_cms()
    story = ReturneeStoryPage.objects.get(pk=story.pk)
    assert sum(child.block_type == "video" for child in story.body) == 1
    assert Document.objects.count() == documents


def test_a_lesson_shows_a_captioned_video(story, lesson, client, django_assert_max_num_queries):
    video = next(child for child in story.body if child.block_type == "video")
    stream = list(lesson.body.raw_data)
    stream.insert(1, {"type": "video", "value": VideoBlock().get_prep_value(video.value)})
    lesson.body = stream
    lesson.save_revision().publish()
    client.get(lesson.url)
    with django_assert_max_num_queries(15):
        html = client.get(lesson.url).content.decode()
    assert '<figure class="video">' in html
    assert [t["srclang"] for t in _tracks(html)] == LANGUAGES


# --- What editors attach and upload ------------------------------------------------------


def _document(name: str, content: bytes):
    document = Document(title=name)
    document.file.save(name, ContentFile(content), save=False)
    document.save()
    return document


@pytest.fixture
def files(db):
    return {
        "video": _document("clip.mp4", demo_clip_mp4()),
        "en": _document("clip.en.vtt", demo_captions("en")),
        "es": _document("clip.es.vtt", demo_captions("es")),
        "pdf_as_vtt": _document("fake.vtt", b"%PDF-1.4 not captions"),
        "vtt_as_mp4": _document("fake.mp4", demo_captions("en")),
        "big_vtt": _document("big.vtt", b"WEBVTT\n\n" + b"x" * CAPTIONS_MAX_BYTES),
        "latin1_vtt": _document("latin1.vtt", "WEBVTT\n\nLucía".encode("latin-1")),
    }


def _clean(files, video="video", captions=(("en", "en"),)):
    block = VideoBlock()
    value = block.to_python(
        {
            "title": "Clip",
            "video": files[video].pk,
            "captions": [{"file": files[key].pk, "language": lang} for key, lang in captions],
            "transcript": "",
        }
    )
    return block.clean(value)


def _errors(error) -> dict:
    return error.value.as_json_data()["blockErrors"]


def test_a_video_block_with_mp4_and_webvtt_files_is_accepted(files):
    value = _clean(files, captions=(("en", "en"), ("es", "es")))
    assert [track["language"] for track in value["captions"]] == ["en", "es"]


@pytest.mark.parametrize(
    ("captions", "message"),
    [
        ((("pdf_as_vtt", "en"),), "WebVTT"),
        ((("big_vtt", "en"),), "too large"),
        ((("latin1_vtt", "en"),), "UTF-8"),
        ((("en", "en"), ("es", "en")), "already captions in this language"),
    ],
)
def test_a_video_block_refuses_bad_caption_files(files, captions, message):
    with pytest.raises(blocks.StructBlockValidationError) as error:
        _clean(files, captions=captions)
    assert message in str(_errors(error)["captions"])


def test_a_video_block_refuses_a_video_that_is_not_mp4(files):
    with pytest.raises(blocks.StructBlockValidationError) as error:
        _clean(files, video="vtt_as_mp4")
    assert "MP4" in str(_errors(error)["video"])


def test_a_video_saved_with_a_single_captions_file_still_reads(files):
    value = VideoBlock().to_python(
        {
            "title": "Old",
            "video": files["video"].pk,
            "captions": files["es"].pk,
            "captions_language": "es",
            "transcript": "",
        }
    )
    assert [(t["file"].pk, t["language"]) for t in value["captions"]] == [(files["es"].pk, "es")]


@pytest.fixture
def upload_form(db):
    with override_settings(WAGTAILDOCS_DOCUMENT_FORM_BASE="cms.forms.DocumentForm"):
        form_class = get_document_form(Document)

    def submit(name: str, content: bytes):
        from wagtail.models import Collection

        form = form_class(
            {"title": name, "collection": Collection.get_first_root_node().pk},
            {"file": SimpleUploadedFile(name, content)},
        )
        return form

    return submit


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("captions.vtt", b"WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.000\nHola\n", None),
        ("clip.mp4", None, None),
        ("captions.vtt", b"<script>alert(1)</script>", "WebVTT"),
        ("captions.vtt", b"WEBVTT\n\n" + b"a" * CAPTIONS_MAX_BYTES, "too large"),
        ("captions.vtt", b"", "empty"),
        ("page.html", b"<html><body>WEBVTT</body></html>", "not accepted"),
        ("report.pdf", b"%PDF-1.7\n", None),
    ],
)
def test_document_upload_is_judged_by_its_content(upload_form, name, content, error):
    form = upload_form(name, demo_clip_mp4() if content is None else content)
    if error is None:
        assert form.is_valid(), form.errors
    else:
        assert not form.is_valid()
        assert error in str(form.errors["file"])


def test_lesson_page_model_keeps_the_video_block(cms_seeded):
    assert "video" in LessonPage.body.field.stream_block.child_blocks
    assert "video" in ReturneeStoryPage.body.field.stream_block.child_blocks
