"""The blocks editors build lessons, stories and standard pages from: one shared
body stream (``BodyStreamBlock``), as in Wagtail's bakerydemo.

Every StructBlock declares icon, template, preview_value and description, so the
block picker previews it and a test renders each block from its preview value.
Blocks that point at media (image, video, glossary term) render nothing when the
media is missing, rather than a broken element.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.images.blocks import ImageChooserBlock
from wagtail.snippets.blocks import SnippetChooserBlock

RICH_TEXT_FEATURES = ["h2", "h3", "bold", "italic", "link", "ol", "ul", "document-link"]


class RichTextBlock(blocks.RichTextBlock):
    def __init__(self, **kwargs):
        kwargs.setdefault("features", RICH_TEXT_FEATURES)
        super().__init__(**kwargs)

    class Meta:
        icon = "pilcrow"
        template = "cms/blocks/rich_text.html"
        preview_value = (
            "<h2>Why the exchange rate matters</h2>"
            "<p>The fee is only part of the price of a transfer.</p>"
        )
        description = _("Paragraphs, headings, lists and links.")


class CalloutBlock(blocks.StructBlock):
    kind = blocks.ChoiceBlock(
        choices=[
            ("tip", _("Tip")),
            ("note", _("Good to know")),
            ("warning", _("Warning")),
        ],
        default="tip",
        label=_("kind"),
    )
    title = blocks.CharBlock(label=_("title"), max_length=120, required=False)
    text = blocks.RichTextBlock(label=_("text"), features=["bold", "italic", "link", "ul"])

    class Meta:
        icon = "help"
        template = "cms/blocks/callout.html"
        preview_value = {
            "kind": "tip",
            "title": "Compare the total cost",
            "text": "<p>Add the fee and the exchange margin before you choose a provider.</p>",
        }
        description = _("A highlighted tip, note or warning.")
        label = _("Callout")


class GlossaryTermBlock(blocks.StructBlock):
    term = SnippetChooserBlock("cms.GlossaryTerm", label=_("term"))

    class Meta:
        icon = "openquote"
        template = "cms/blocks/glossary_term.html"
        preview_value = {"term": None}
        description = _("A term from the glossary with its definition.")
        label = _("Glossary term")

    def get_context(self, value, parent_context=None):
        """The term in the visitor's language when the page found a translation
        (``glossary_terms``, looked up once for the whole body)."""
        context = super().get_context(value, parent_context)
        term = value["term"]
        localized = (parent_context or {}).get("glossary_terms") or {}
        if term is not None:
            term = localized.get(term.translation_key, term)
        context["term"] = term
        return context


class ImageBlock(blocks.StructBlock):
    image = ImageChooserBlock(label=_("image"))
    alt_text = blocks.CharBlock(
        label=_("alternative text"),
        max_length=200,
        required=False,
        help_text=_("Describe the picture for people who cannot see it; empty if decorative."),
    )
    caption = blocks.CharBlock(label=_("caption"), max_length=250, required=False)

    class Meta:
        icon = "image"
        template = "cms/blocks/image.html"
        preview_value = {"image": None, "alt_text": "", "caption": "A market in Jerez"}
        description = _("A picture, resized for the page.")
        label = _("Image")


CAPTION_LANGUAGES = [
    ("en", "English"),
    ("es", "Español"),
    ("fr", "Français"),
    ("pt", "Português"),
    ("ar", "العربية"),
]


class CaptionTrackBlock(blocks.StructBlock):
    file = DocumentChooserBlock(
        label=_("captions file"), help_text=_("A WebVTT (.vtt) file, UTF-8, up to 256 KB.")
    )
    language = blocks.ChoiceBlock(
        label=_("language of the captions"), choices=CAPTION_LANGUAGES, default="en"
    )

    class Meta:
        icon = "openquote"
        label = _("Captions")


class VideoBlock(blocks.StructBlock):
    """A video file served from our own storage, with WebVTT captions in one or
    more languages: no third-party player or tracking."""

    title = blocks.CharBlock(label=_("title"), max_length=160)
    video = DocumentChooserBlock(
        label=_("video file"), help_text=_("An MP4 file uploaded as a document.")
    )
    captions = blocks.ListBlock(CaptionTrackBlock(), label=_("captions"), default=[])
    transcript = blocks.TextBlock(label=_("transcript"), required=False)

    class Meta:
        icon = "media"
        template = "cms/blocks/video.html"
        preview_value = {
            "title": "Lucía on coming back to Jerez",
            "video": None,
            "captions": [],
            "transcript": "I saved for three years before coming back.",
        }
        description = _("A video file with captions and an optional transcript.")
        label = _("Video")

    @staticmethod
    def _upgrade(value):
        """Blocks saved when a video had a single captions file (``captions``
        holding a document id, next to ``captions_language``) read as a list."""
        if isinstance(value, dict) and not isinstance(value.get("captions"), list):
            value = dict(value)
            document = value.pop("captions", None)
            language = value.pop("captions_language", "en")
            value["captions"] = [{"file": document, "language": language}] if document else []
        return value

    def to_python(self, value):
        return super().to_python(self._upgrade(value))

    def bulk_to_python(self, values):
        return super().bulk_to_python([self._upgrade(value) for value in values])

    def clean(self, value):
        from .media import check_document, validate_captions, validate_video

        value = super().clean(value)
        errors = {}
        if value["video"] is not None:
            try:
                check_document(value["video"], validate_video)
            except ValidationError as error:
                errors["video"] = error
        track_errors = {}
        seen = set()
        for index, track in enumerate(value["captions"]):
            if track["language"] in seen:
                track_errors[index] = blocks.StructBlockValidationError(
                    block_errors={
                        "language": ValidationError(
                            _("There are already captions in this language.")
                        )
                    }
                )
                continue
            seen.add(track["language"])
            try:
                check_document(track["file"], validate_captions)
            except ValidationError as error:
                track_errors[index] = blocks.StructBlockValidationError(
                    block_errors={"file": error}
                )
        if track_errors:
            errors["captions"] = blocks.ListBlockValidationError(block_errors=track_errors)
        if errors:
            raise blocks.StructBlockValidationError(block_errors=errors)
        return value

    def get_context(self, value, parent_context=None):
        from django.utils import translation

        context = super().get_context(value, parent_context)
        active = (translation.get_language() or "en").split("-")[0]
        names = dict(CAPTION_LANGUAGES)
        context["tracks"] = [
            {
                "url": track["file"].url,
                "language": track["language"],
                "label": names.get(track["language"], track["language"]),
                "default": track["language"] == active,
            }
            for track in value["captions"]
            if track["file"] is not None
        ]
        return context


class WorkedExampleBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("title"), max_length=200)
    text = blocks.TextBlock(
        label=_("the computation in words"),
        help_text=_("Write every number; a blank line starts a new paragraph."),
    )

    class Meta:
        icon = "list-ol"
        template = "cms/blocks/worked_example.html"
        preview_value = {
            "title": "Sending 300 USD",
            "text": "A 5 USD fee plus a 2.5% margin on 300 USD (7.50 USD) costs 12.50 USD, "
            "or 4.2% of what you send.",
        }
        description = _("A calculation explained step by step.")
        label = _("Worked example")

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        context["paragraphs"] = [p.strip() for p in value["text"].split("\n\n") if p.strip()]
        return context


class QuizChoiceBlock(blocks.StructBlock):
    text = blocks.CharBlock(label=_("answer"), max_length=300)
    correct = blocks.BooleanBlock(label=_("correct answer"), required=False)
    feedback = blocks.TextBlock(label=_("feedback shown for this answer"))

    class Meta:
        icon = "radio-full"
        label = _("Choice")


class QuizQuestionBlock(blocks.StructBlock):
    question = blocks.CharBlock(label=_("question"), max_length=400)
    choices = blocks.ListBlock(QuizChoiceBlock(), min_num=2, label=_("choices"))

    class Meta:
        icon = "help"
        label = _("Question")

    def clean(self, value):
        value = super().clean(value)
        correct = [choice for choice in value["choices"] if choice["correct"]]
        if len(correct) != 1:
            message = (
                _("Mark one answer as correct.")
                if not correct
                else _("Only one answer can be correct.")
            )
            raise blocks.StructBlockValidationError(
                block_errors={"choices": ValidationError(message)}
            )
        return value


class QuizBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("title"), max_length=160, required=False)
    questions = blocks.ListBlock(QuizQuestionBlock(), min_num=1, label=_("questions"))

    class Meta:
        icon = "tasks"
        template = "cms/blocks/quiz.html"
        preview_value = {
            "title": "Check what you learned",
            "questions": [
                {
                    "question": "What does a transfer really cost?",
                    "choices": [
                        {
                            "text": "The fee plus the exchange-rate margin",
                            "correct": True,
                            "feedback": "Right: both parts are part of the price.",
                        },
                        {
                            "text": "Only the fee",
                            "correct": False,
                            "feedback": "The margin hidden in the rate costs money too.",
                        },
                    ],
                }
            ],
        }
        description = _("Questions with one correct answer each and feedback per answer.")
        label = _("Quiz")

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        state = (parent_context or {}).get("state")
        context["block_id"] = (parent_context or {}).get("block_id") or "preview"
        context["questions"] = quiz_display(value, state)
        context["state"] = state
        return context


def correct_index(question) -> int | None:
    for index, choice in enumerate(question["choices"]):
        if choice["correct"]:
            return index
    return None


def quiz_display(value, state=None) -> list[dict]:
    """What the quiz template shows: each question with its choices and, after a
    submission, which choice was picked and its feedback."""
    answers = (state or {}).get("answers", {})
    shown = []
    for number, question in enumerate(value["questions"]):
        picked = answers.get(number)
        right = correct_index(question)
        shown.append(
            {
                "number": number,
                "question": question["question"],
                "choices": [
                    {"index": index, "text": choice["text"], "checked": index == picked}
                    for index, choice in enumerate(question["choices"])
                ],
                "answered": picked is not None,
                "unanswered": state is not None and picked is None,
                "correct": picked is not None and picked == right,
                "feedback": question["choices"][picked]["feedback"] if picked is not None else "",
            }
        )
    return shown


CALCULATOR_CHOICES = [
    ("remittance_cost", _("Remittance cost")),
    ("planner", _("Invest part of what I send")),
    ("loan", _("Loan repayment schedule")),
    ("bond", _("Bond coupon and yield")),
]


class CalculatorBlock(blocks.StructBlock):
    kind = blocks.ChoiceBlock(choices=CALCULATOR_CHOICES, label=_("calculator"))
    title = blocks.CharBlock(label=_("title"), max_length=160, required=False)
    intro = blocks.TextBlock(label=_("introduction"), required=False)

    class Meta:
        icon = "table"
        template = "cms/blocks/calculator.html"
        preview_value = {
            "kind": "remittance_cost",
            "title": "What does your transfer cost?",
            "intro": "Enter what you send, the fee and the exchange margin.",
        }
        description = _("An interactive calculator that also works without JavaScript.")
        label = _("Calculator")

    def get_context(self, value, parent_context=None):
        from .calculators import CALCULATORS

        context = super().get_context(value, parent_context)
        parent_context = parent_context or {}
        block_id = parent_context.get("block_id") or "preview"
        state = parent_context.get("state") or {}
        calculator = CALCULATORS[value["kind"]]
        context["block_id"] = block_id
        context["form"] = state.get("form") or calculator.form_class(prefix=f"c-{block_id}")
        context["result"] = state.get("result")
        context["result_template"] = calculator.result_template
        context["default_title"] = calculator.title
        return context


class BodyStreamBlock(blocks.StreamBlock):
    rich_text = RichTextBlock(label=_("Text"))
    callout = CalloutBlock()
    glossary_term = GlossaryTermBlock()
    image = ImageBlock()
    video = VideoBlock()
    worked_example = WorkedExampleBlock()
    quiz = QuizBlock()
    calculator = CalculatorBlock()

    class Meta:
        icon = "doc-full"


class LinkBlock(blocks.StructBlock):
    """A navigation or footer link: to a page (shown in the visitor's language
    when translated) or to a path of the portal."""

    page = blocks.PageChooserBlock(label=_("page"), required=False)
    url = blocks.CharBlock(
        label=_("or a path"), required=False, max_length=300, help_text=_("e.g. /projects/")
    )
    label = blocks.CharBlock(
        label=_("label"), required=False, max_length=80, help_text=_("Defaults to the page title.")
    )

    class Meta:
        icon = "link"
        label = _("Link")

    def clean(self, value):
        value = super().clean(value)
        if not value["page"] and not value["url"]:
            raise blocks.StructBlockValidationError(
                block_errors={"page": ValidationError(_("Choose a page or enter a path."))}
            )
        if value["url"] and not value["label"]:
            raise blocks.StructBlockValidationError(
                block_errors={"label": ValidationError(_("A path needs a label."))}
            )
        return value
