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


class VideoBlock(blocks.StructBlock):
    """A video file served from our own storage, with WebVTT captions: no
    third-party player or tracking."""

    title = blocks.CharBlock(label=_("title"), max_length=160)
    video = DocumentChooserBlock(
        label=_("video file"), help_text=_("An MP4 or WebM file uploaded as a document.")
    )
    captions = DocumentChooserBlock(
        label=_("captions"), required=False, help_text=_("A WebVTT (.vtt) captions file.")
    )
    captions_language = blocks.ChoiceBlock(
        label=_("language of the captions"),
        choices=[
            ("en", "English"),
            ("es", "Español"),
            ("fr", "Français"),
            ("pt", "Português"),
            ("ar", "العربية"),
        ],
        default="en",
    )
    transcript = blocks.TextBlock(label=_("transcript"), required=False)

    class Meta:
        icon = "media"
        template = "cms/blocks/video.html"
        preview_value = {
            "title": "Lucía on coming back to Jerez",
            "video": None,
            "captions": None,
            "captions_language": "en",
            "transcript": "I saved for three years before coming back.",
        }
        description = _("A video file with captions and an optional transcript.")
        label = _("Video")


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
