"""Demo content for the CMS: the financial-literacy hub, its courses and lessons
(from ``cms.content.literacy``), standard pages, the glossary, two returnee
stories and a page per local government, in English with Spanish translations.

Pages not translated into French, Portuguese or Arabic exist in those trees as
aliases of the English page: Wagtail's way of marking "not yet translated"
(editors convert an alias into a page to translate it), shown with a notice.

``seed_cms()`` is idempotent: each page, term and setting is looked up first.
"""

from __future__ import annotations

import datetime
import json
import uuid
from html import escape

from django.contrib.auth.models import Group
from django.db import transaction

from .content.literacy import COURSES
from .knowledge_source import KNOWLEDGE_TEST_COURSES

TRANSLATED = ("es",)
NOT_YET_TRANSLATED = ("fr", "pt", "ar")
WORKFLOW_NAME = "Two-step approval"
APPROVAL_TASK_NAME = "Approval by a second editor"
_ID_NAMESPACE = uuid.UUID("6f1c7d52-3a0e-4a53-9a51-2f6f1b1f5e10")


def _t(en: str, es: str) -> dict[str, str]:
    return {"en": en, "es": es}


def _block_id(*parts: str) -> str:
    # The same id in every language: quiz progress and knowledge-test keys
    # follow a quiz from one translation to another.
    return str(uuid.uuid5(_ID_NAMESPACE, "/".join(parts)))


# --- Glossary ---------------------------------------------------------------------------

GLOSSARY = [
    (
        "remittance",
        _t("Remittance", "Remesa"),
        _t(
            "Money a migrant sends to family or friends in their country of origin.",
            "Dinero que una persona migrante envía a su familia o amistades en su país de origen.",
        ),
    ),
    (
        "mid-market-rate",
        _t("Mid-market rate", "Tipo de cambio medio del mercado"),
        _t(
            "The exchange rate halfway between what banks pay and charge each other for a "
            "currency; the fairest reference to compare providers against.",
            "El tipo de cambio a medio camino entre lo que los bancos pagan y cobran entre sí "
            "por una moneda; la referencia más justa para comparar proveedores.",
        ),
    ),
    (
        "exchange-rate-margin",
        _t("Exchange-rate margin", "Margen del tipo de cambio"),
        _t(
            "The difference between the mid-market rate and the rate a provider gives you, "
            "kept by the provider: a cost on top of the fee.",
            "La diferencia entre el tipo de cambio medio del mercado y el que le da el "
            "proveedor, que se queda con ella: un costo además de la comisión.",
        ),
    ),
    (
        "transfer-fee",
        _t("Transfer fee", "Comisión de envío"),
        _t(
            "The fixed or percentage charge a provider adds to each transfer.",
            "El cargo fijo o porcentual que el proveedor suma a cada envío.",
        ),
    ),
    (
        "principal",
        _t("Principal", "Capital"),
        _t(
            "The amount lent or borrowed, not counting interest.",
            "La cantidad prestada o pedida en préstamo, sin contar los intereses.",
        ),
    ),
    (
        "interest-rate",
        _t("Interest rate", "Tasa de interés"),
        _t(
            "The price of borrowing money, as a percentage of the principal per period "
            "(usually per year).",
            "El precio de pedir dinero prestado, como porcentaje del capital por periodo "
            "(normalmente por año).",
        ),
    ),
    (
        "annuity",
        _t("Annuity loan", "Préstamo de cuota fija"),
        _t(
            "A loan repaid in equal payments; each payment covers the interest due and "
            "repays part of the principal.",
            "Un préstamo que se devuelve en cuotas iguales; cada cuota paga los intereses "
            "del periodo y devuelve una parte del capital.",
        ),
    ),
    (
        "diaspora-bond",
        _t("Diaspora bond", "Bono de la diáspora"),
        _t(
            "A bond a government or local authority sells to its emigrants to finance "
            "public investment at home.",
            "Un bono que un gobierno o autoridad local vende a sus emigrantes para financiar "
            "inversión pública en el país.",
        ),
    ),
    (
        "coupon",
        _t("Coupon", "Cupón"),
        _t(
            "The interest a bond pays at regular dates, as a percentage of its face value.",
            "El interés que un bono paga en fechas fijas, como porcentaje de su valor nominal.",
        ),
    ),
    (
        "face-value",
        _t("Face value", "Valor nominal"),
        _t(
            "The amount a bond repays at maturity and on which its coupons are calculated.",
            "La cantidad que un bono devuelve al vencimiento y sobre la que se calculan sus "
            "cupones.",
        ),
    ),
    (
        "maturity",
        _t("Maturity", "Vencimiento"),
        _t(
            "The date on which a bond or loan is due to be repaid in full.",
            "La fecha en que un bono o préstamo debe devolverse por completo.",
        ),
    ),
    (
        "yield-to-maturity",
        _t("Yield to maturity", "Rendimiento al vencimiento"),
        _t(
            "The yearly return you earn on a bond if you hold it to maturity and every "
            "payment arrives, taking into account the price you paid.",
            "El rendimiento anual que obtiene con un bono si lo conserva hasta el "
            "vencimiento y recibe todos los pagos, teniendo en cuenta el precio que pagó.",
        ),
    ),
    (
        "diversification",
        _t("Diversification", "Diversificación"),
        _t(
            "Spreading money over several projects or instruments so that one failure "
            "does not take everything.",
            "Repartir el dinero entre varios proyectos o instrumentos para que un fracaso no "
            "se lleve todo.",
        ),
    ),
    (
        "matching-fund",
        _t("Matching fund (3x1)", "Fondo de contrapartida (3x1)"),
        _t(
            "A programme in which governments add money to each unit the diaspora "
            "contributes to a community project; in Mexico's 3x1, three levels of "
            "government each added one peso.",
            "Un programa en el que los gobiernos añaden dinero a cada unidad que la "
            "diáspora aporta a un proyecto comunitario; en el 3x1 de México, tres niveles "
            "de gobierno añadían un peso cada uno.",
        ),
    ),
    (
        "ponzi-scheme",
        _t("Ponzi scheme", "Esquema Ponzi"),
        _t(
            "A fraud that pays earlier investors with the money of newer ones instead of "
            "real profits, and collapses when new money stops.",
            "Un fraude que paga a los primeros inversores con el dinero de los nuevos en "
            "lugar de con ganancias reales, y se derrumba cuando deja de entrar dinero.",
        ),
    ),
    (
        "break-even",
        _t("Break-even point", "Punto de equilibrio"),
        _t(
            "The sales at which a business's income covers all its costs, with neither "
            "profit nor loss.",
            "Las ventas con las que los ingresos de un negocio cubren todos sus costos, sin "
            "ganancia ni pérdida.",
        ),
    ),
]

# Lesson slug -> glossary keys shown after the lesson's text.
LESSON_TERMS = {
    "what-a-remittance-really-costs": ("exchange-rate-margin", "mid-market-rate"),
    "how-interest-is-charged": ("interest-rate", "principal"),
    "repayments-and-affordability": ("annuity",),
    "how-a-diaspora-bond-works": ("diaspora-bond", "coupon", "yield-to-maturity"),
    "risks-of-a-diaspora-bond": ("maturity",),
    "spreading-your-money": ("diversification",),
    "market-and-break-even": ("break-even",),
    "too-good-to-be-true": ("ponzi-scheme",),
}

# Lesson slug -> calculator kind, title and introduction.
LESSON_CALCULATORS = {
    "what-a-remittance-really-costs": (
        "remittance_cost",
        _t("What does your transfer really cost?", "¿Cuánto le cuesta de verdad su envío?"),
        _t(
            "Enter what you send, the fee and the exchange-rate margin; compare the total "
            "with the 3% target of the Sustainable Development Goals.",
            "Escriba lo que envía, la comisión y el margen del tipo de cambio; compare el "
            "total con la meta del 3 % de los Objetivos de Desarrollo Sostenible.",
        ),
    ),
    "saving-for-your-return": (
        "planner",
        _t("Invest part of what you send", "Invierta parte de lo que envía"),
        _t(
            "See what a monthly amount could grow to, and the income it could bring.",
            "Vea en cuánto podría convertirse una cantidad mensual y el ingreso que podría darle.",
        ),
    ),
    "repayments-and-affordability": (
        "loan",
        _t("Your repayment schedule", "Su calendario de pagos"),
        _t(
            "Enter a loan's amount, rate and length to see every payment.",
            "Escriba el monto, la tasa y el plazo de un préstamo para ver cada pago.",
        ),
    ),
    "how-a-diaspora-bond-works": (
        "bond",
        _t("Coupons and yield of a bond", "Cupones y rendimiento de un bono"),
        _t(
            "Enter the face value, coupon and price to see what you receive and the yield.",
            "Escriba el valor nominal, el cupón y el precio para ver lo que recibe y el "
            "rendimiento.",
        ),
    ),
    "spreading-your-money": (
        "planner",
        _t("Plan a regular investment", "Planifique una inversión periódica"),
        _t(
            "Try a lower expected return too: returns are not guaranteed.",
            "Pruebe también con un rendimiento menor: los rendimientos no están garantizados.",
        ),
    ),
}

QUIZ_TITLE = _t("Check what you learned", "Compruebe lo que aprendió")
HUB = {
    "slug": _t("learn", "aprender"),
    "title": _t("Learn before you invest", "Aprenda antes de invertir"),
    "intro": _t(
        "Short courses on sending money home for less, budgeting a return, loans, diaspora "
        "bonds, risk, starting a business and avoiding fraud. Each lesson ends with a quiz.",
        "Cursos breves para enviar dinero a casa por menos, presupuestar el regreso, "
        "entender préstamos y bonos de la diáspora, el riesgo, emprender y evitar fraudes. "
        "Cada lección termina con un cuestionario.",
    ),
}


def _rich(*paragraphs: str, heading: str = "") -> str:
    html = f"<h2>{escape(heading)}</h2>" if heading else ""
    return html + "".join(f"<p>{escape(p)}</p>" for p in paragraphs)


def _lesson_body(course: dict, lesson: dict, lang: str, terms: dict) -> str:
    key = f"{course['slug']}/{lesson['slug']}"
    body = []
    for index, section in enumerate(lesson["sections"]):
        body.append(
            {
                "type": "rich_text",
                "id": _block_id(key, "section", str(index)),
                "value": _rich(
                    *(p[lang] for p in section["paragraphs"]), heading=section["heading"][lang]
                ),
            }
        )
    example = lesson["worked_example"]
    body.append(
        {
            "type": "worked_example",
            "id": _block_id(key, "example"),
            "value": {"title": example["title"][lang], "text": example["text"][lang]},
        }
    )
    if lesson["slug"] in LESSON_CALCULATORS:
        kind, title, intro = LESSON_CALCULATORS[lesson["slug"]]
        body.append(
            {
                "type": "calculator",
                "id": _block_id(key, "calculator"),
                "value": {"kind": kind, "title": title[lang], "intro": intro[lang]},
            }
        )
    for term_key in LESSON_TERMS.get(lesson["slug"], ()):
        body.append(
            {
                "type": "glossary_term",
                "id": _block_id(key, "term", term_key),
                "value": {"term": terms[term_key].pk},
            }
        )
    body.append(
        {
            "type": "quiz",
            "id": _block_id(key, "quiz"),
            "value": {
                "title": QUIZ_TITLE[lang],
                "questions": [
                    {
                        "question": question["question"][lang],
                        "choices": [
                            {
                                "text": choice["text"][lang],
                                "correct": number == question["correct"],
                                "feedback": choice["feedback"][lang],
                            }
                            for number, choice in enumerate(question["choices"])
                        ],
                    }
                    for question in lesson["quiz"]
                ],
            },
        }
    )
    return json.dumps(body)


# --- Standard pages ---------------------------------------------------------------------

STANDARD_PAGES = [
    {
        "slug": _t("about", "acerca-de"),
        "title": _t("About Puente", "Acerca de Puente"),
        "intro": _t(
            "Puente helps people who emigrated, and people who came back, put part of what "
            "they send home into vetted local projects and diaspora bonds.",
            "Puente ayuda a quienes emigraron, y a quienes regresaron, a invertir parte de lo "
            "que envían a casa en proyectos locales verificados y bonos de la diáspora.",
        ),
        "sections": [
            (
                _t("What we do", "Qué hacemos"),
                _t(
                    "Remittances keep families going. Puente adds a second path: a small "
                    "part of what you send can fund a cooperative, a clinic or a water "
                    "system in your hometown, and come back to you as interest, a share of "
                    "revenue or simply as a visible change.",
                    "Las remesas sostienen a las familias. Puente añade un segundo camino: "
                    "una pequeña parte de lo que envía puede financiar una cooperativa, una "
                    "clínica o un sistema de agua en su pueblo, y volver a usted como "
                    "intereses, una parte de los ingresos o simplemente como un cambio "
                    "visible.",
                ),
                _t(
                    "Every project is reviewed by our staff against a due-diligence "
                    "checklist and a do-no-harm assessment before it is published. Local "
                    "governments can endorse projects, add matching funds and issue "
                    "diaspora bonds.",
                    "Nuestro equipo revisa cada proyecto con una lista de verificación y una "
                    "evaluación de «no hacer daño» antes de publicarlo. Los gobiernos "
                    "locales pueden respaldar proyectos, añadir fondos de contrapartida y "
                    "emitir bonos de la diáspora.",
                ),
            ),
            (
                _t("Learn first", "Primero, aprenda"),
                _t(
                    "Our free courses explain what a transfer really costs, how loans and "
                    "bonds work and how to spread risk. Before your first loan, revenue "
                    "share or bond pledge we ask a few questions from these courses.",
                    "Nuestros cursos gratuitos explican cuánto cuesta de verdad un envío, "
                    "cómo funcionan los préstamos y los bonos y cómo repartir el riesgo. "
                    "Antes de su primer compromiso en un préstamo, participación en ingresos "
                    "o bono, le hacemos algunas preguntas de estos cursos.",
                ),
            ),
        ],
    },
    {
        "slug": _t("risks", "riesgos"),
        "title": _t("Risks of investing", "Riesgos de invertir"),
        "intro": _t(
            "Investing in local projects and diaspora bonds can lose money. Read this "
            "before you pledge.",
            "Invertir en proyectos locales y bonos de la diáspora puede hacerle perder "
            "dinero. Lea esto antes de comprometerse.",
        ),
        "sections": [
            (
                _t("You may lose part or all of your money", "Puede perder parte o todo su dinero"),
                _t(
                    "Small businesses fail often, even after a careful review. A loan may be "
                    "repaid late or not at all; a revenue share depends on sales; a bond "
                    "depends on its issuer's ability to pay. Puente does not guarantee any "
                    "return.",
                    "Los pequeños negocios fracasan a menudo, incluso tras una revisión "
                    "cuidadosa. Un préstamo puede devolverse tarde o nunca; una participación "
                    "en ingresos depende de las ventas; un bono depende de la capacidad de "
                    "pago de su emisor. Puente no garantiza ningún rendimiento.",
                ),
            ),
            (
                _t("Your money may be locked in", "Su dinero puede quedar inmovilizado"),
                _t(
                    "There is no market where you can sell a pledge early. Only invest money "
                    "you will not need before the end of the term.",
                    "No existe un mercado donde vender un compromiso antes de tiempo. "
                    "Invierta solo dinero que no necesitará antes del final del plazo.",
                ),
            ),
            (
                _t("Currencies move", "Las monedas cambian de valor"),
                _t(
                    "If a project pays in a currency other than the one you earn in, changes "
                    "in the exchange rate can reduce what you receive.",
                    "Si un proyecto paga en una moneda distinta de la que usted gana, los "
                    "cambios del tipo de cambio pueden reducir lo que recibe.",
                ),
                _t(
                    "Spread your money over several projects and never invest what your "
                    "family needs to live.",
                    "Reparta su dinero entre varios proyectos y nunca invierta lo que su "
                    "familia necesita para vivir.",
                ),
            ),
        ],
    },
    {
        "slug": _t("terms", "condiciones"),
        "title": _t("Terms of use", "Condiciones de uso"),
        "intro": _t(
            "The rules for using Puente, in plain words.",
            "Las reglas para usar Puente, en palabras sencillas.",
        ),
        "sections": [
            (
                _t("Your account", "Su cuenta"),
                _t(
                    "You must be an adult and give true information about yourself. Keep "
                    "your password and your second factor private; you are responsible for "
                    "what is done with your account.",
                    "Debe ser mayor de edad y dar información verdadera sobre usted. "
                    "Mantenga en privado su contraseña y su segundo factor; usted es "
                    "responsable de lo que se haga con su cuenta.",
                ),
            ),
            (
                _t("Pledges and payments", "Compromisos y pagos"),
                _t(
                    "A pledge becomes binding when it is paid. If an all-or-nothing offering "
                    "misses its target, paid pledges are refunded. Limits per twelve months "
                    "depend on how your identity has been verified.",
                    "Un compromiso es vinculante cuando se paga. Si una oferta de «todo o "
                    "nada» no alcanza su meta, los compromisos pagados se reembolsan. Los "
                    "límites por doce meses dependen de cómo se haya verificado su "
                    "identidad.",
                ),
            ),
            (
                _t("Projects and information", "Proyectos e información"),
                _t(
                    "Project owners are responsible for what they publish. Puente reviews "
                    "projects but does not guarantee their success or returns.",
                    "Los responsables de cada proyecto responden por lo que publican. Puente "
                    "revisa los proyectos, pero no garantiza su éxito ni sus rendimientos.",
                ),
            ),
        ],
    },
    {
        "slug": _t("privacy", "privacidad"),
        "title": _t("Privacy notice", "Aviso de privacidad"),
        "intro": _t(
            "What personal data we keep, why, and what you can ask of us.",
            "Qué datos personales guardamos, para qué y qué puede pedirnos.",
        ),
        "sections": [
            (
                _t("What we keep", "Qué guardamos"),
                _t(
                    "Your name, email, countries of residence and origin, language, the "
                    "documents you upload to verify your identity, your pledges and "
                    "payments, and a record of your consents.",
                    "Su nombre, correo electrónico, países de residencia y de origen, "
                    "idioma, los documentos que sube para verificar su identidad, sus "
                    "compromisos y pagos, y un registro de sus consentimientos.",
                ),
            ),
            (
                _t("Why", "Para qué"),
                _t(
                    "To run your account, to meet anti-money-laundering and investment rules, "
                    "to send you statements and, only if you agreed, news by email.",
                    "Para gestionar su cuenta, cumplir las normas contra el lavado de dinero "
                    "y de inversión, enviarle estados de cuenta y, solo si lo aceptó, "
                    "noticias por correo.",
                ),
            ),
            (
                _t("Your rights", "Sus derechos"),
                _t(
                    "You can see, correct, export or delete your data, except what the law "
                    "requires us to keep. Write to us at the contact address below.",
                    "Puede ver, corregir, exportar o borrar sus datos, salvo los que la ley "
                    "nos obliga a conservar. Escríbanos a la dirección de contacto.",
                ),
            ),
        ],
    },
    {
        "slug": _t("faq", "preguntas-frecuentes"),
        "title": _t("Frequently asked questions", "Preguntas frecuentes"),
        "intro": _t("Short answers to common questions.", "Respuestas breves a dudas comunes."),
        "sections": [
            (
                _t("How much do I need to start?", "¿Cuánto necesito para empezar?"),
                _t(
                    "Each offering sets a minimum ticket, often 25 US dollars or the same in "
                    "another currency.",
                    "Cada oferta fija un monto mínimo, a menudo 25 dólares o su equivalente "
                    "en otra moneda.",
                ),
            ),
            (
                _t("Can I pay through my remittance provider?", "¿Puedo pagar con mi remesadora?"),
                _t(
                    "Yes, with partner providers: part of a transfer can go to your pledge. "
                    "You can also pay by card or bank transfer.",
                    "Sí, con las remesadoras asociadas: parte de un envío puede ir a su "
                    "compromiso. También puede pagar con tarjeta o transferencia bancaria.",
                ),
            ),
            (
                _t("What happens if a project fails?", "¿Qué pasa si un proyecto fracasa?"),
                _t(
                    "You may lose part or all of what you invested. That is why we "
                    "recommend spreading your money over several projects.",
                    "Puede perder parte o todo lo que invirtió. Por eso recomendamos "
                    "repartir su dinero entre varios proyectos.",
                ),
            ),
        ],
    },
]

STORIES = [
    {
        "slug": _t("lucia-mezcal-jerez", "lucia-mezcal-jerez"),
        "title": _t(
            "Lucía came back to Jerez to distil with her neighbours",
            "Lucía volvió a Jerez para destilar con sus vecinos",
        ),
        "person_name": "Lucía Hernández",
        "territory": "mx-zacatecas-jerez-de-garcia-salinas",
        "quote": _t(
            "In California I learned how a business keeps its books. Here I learned that a "
            "cooperative keeps its people.",
            "En California aprendí cómo un negocio lleva sus cuentas. Aquí aprendí que una "
            "cooperativa cuida a su gente.",
        ),
        "summary": _t(
            "After twelve years in California, Lucía returned to Zacatecas and started a "
            "mezcal cooperative with local agave growers, funded partly by former neighbours "
            "who still live abroad.",
            "Tras doce años en California, Lucía regresó a Zacatecas y fundó una cooperativa "
            "mezcalera con productores locales de agave, financiada en parte por antiguos "
            "vecinos que siguen en el extranjero.",
        ),
        "paragraphs": _t(
            "Lucía saved for three years before coming back. She kept a reserve of six "
            "months of living costs and used the rest to buy a share in a still.|"
            "The cooperative asked Puente for a loan to buy bottling equipment. Forty people "
            "from Jerez living in the United States pledged, most of them less than 100 "
            "dollars, and the municipality added matching funds.",
            "Lucía ahorró durante tres años antes de volver. Guardó una reserva de seis meses "
            "de gastos y usó el resto para comprar una parte de un alambique.|"
            "La cooperativa pidió a Puente un préstamo para comprar equipo de embotellado. "
            "Cuarenta personas de Jerez que viven en Estados Unidos se comprometieron, la "
            "mayoría con menos de 100 dólares, y el municipio añadió fondos de contrapartida.",
        ),
    },
    {
        "slug": _t("moussa-millet-louga", "moussa-mijo-louga"),
        "title": _t(
            "Moussa turned millet into a business in Louga",
            "Moussa convirtió el mijo en un negocio en Louga",
        ),
        "person_name": "Moussa Ndiaye",
        "territory": "sn-louga-louga",
        "quote": _t(
            "People at home did not need my money as much as they needed a mill that works "
            "every day.",
            "La gente en casa no necesitaba tanto mi dinero como un molino que funcione todos "
            "los días.",
        ),
        "summary": _t(
            "Moussa worked in Lyon for nine years. Back in Louga, he and five women farmers "
            "set up an economic interest group that processes millet and cowpea for local "
            "markets.",
            "Moussa trabajó nueve años en Lyon. De vuelta en Louga, él y cinco agricultoras "
            "crearon una agrupación de interés económico que transforma mijo y caupí para "
            "los mercados locales.",
        ),
        "paragraphs": _t(
            "Before returning, Moussa followed the courses on budgeting a return and on "
            "starting a business, and worked out his break-even point: 40 kilograms of "
            "flour a day.|"
            "The group now employs eight people. Its first diaspora investors are being "
            "repaid monthly, and the group publishes an impact report every quarter.",
            "Antes de volver, Moussa siguió los cursos sobre cómo presupuestar el regreso y "
            "cómo emprender, y calculó su punto de equilibrio: 40 kilos de harina al día.|"
            "El grupo emplea hoy a ocho personas. Sus primeros inversores de la diáspora "
            "reciben pagos mensuales, y el grupo publica un informe de impacto cada "
            "trimestre.",
        ),
    },
]


# --- Helpers ----------------------------------------------------------------------------


def _say(stdout, message: str) -> None:
    if stdout is not None:
        stdout.write(message)


def _publish(page) -> None:
    page.save_revision().publish()


def _child(parent, model, slug: str):
    return model.objects.child_of(parent).filter(slug=slug).first()


def _ensure_en(parent, model, slug: str, **fields):
    page = _child(parent, model, slug)
    if page is None:
        page = model(slug=slug, **fields)
        parent.add_child(instance=page)
        _publish(page)
    return page


def _ensure_translation(page, locale, *, slug: str, **fields):
    existing = page.get_translation_or_none(locale)
    if existing is not None:
        return existing.specific
    translated = page.copy_for_translation(locale)
    translated.slug = slug
    for name, value in fields.items():
        setattr(translated, name, value)
    _publish(translated)
    return translated


# --- Seeding ----------------------------------------------------------------------------


def seed_glossary(locales) -> dict[str, dict]:
    from .models import GlossaryTerm

    terms: dict[str, dict] = {"en": {}, "es": {}}
    for key, term, definition in GLOSSARY:
        english = GlossaryTerm.objects.filter(locale=locales["en"], term=term["en"]).first()
        if english is None:
            english = GlossaryTerm.objects.create(
                locale=locales["en"], term=term["en"], definition=definition["en"]
            )
        spanish = english.get_translation_or_none(locales["es"])
        if spanish is None:
            spanish = english.copy_for_translation(locales["es"])
            spanish.term, spanish.definition = term["es"], definition["es"]
            spanish.save()
        terms["en"][key], terms["es"][key] = english, spanish
    return terms


def seed_literacy(home, locales, terms):
    from .models import CoursePage, LessonPage, LiteracyHubPage

    hub = _ensure_en(
        home,
        LiteracyHubPage,
        HUB["slug"]["en"],
        title=HUB["title"]["en"],
        intro=f"<p>{escape(HUB['intro']['en'])}</p>",
    )
    _ensure_translation(
        hub,
        locales["es"],
        slug=HUB["slug"]["es"],
        title=HUB["title"]["es"],
        intro=f"<p>{escape(HUB['intro']['es'])}</p>",
    )
    for course in COURSES:
        course_page = _ensure_en(
            hub,
            CoursePage,
            course["slug"],
            title=course["title"]["en"],
            summary=course["summary"]["en"],
            in_knowledge_test=course["slug"] in KNOWLEDGE_TEST_COURSES,
        )
        _ensure_translation(
            course_page,
            locales["es"],
            slug=course["slug"],
            title=course["title"]["es"],
            summary=course["summary"]["es"],
        )
        for lesson in course["lessons"]:
            words = sum(len(p["en"].split()) for s in lesson["sections"] for p in s["paragraphs"])
            lesson_page = _ensure_en(
                course_page,
                LessonPage,
                lesson["slug"],
                title=lesson["title"]["en"],
                intro=lesson["intro"]["en"],
                minutes=max(3, round(words / 180) + 3),
                body=_lesson_body(course, lesson, "en", terms["en"]),
            )
            _ensure_translation(
                lesson_page,
                locales["es"],
                slug=lesson["slug"],
                title=lesson["title"]["es"],
                intro=lesson["intro"]["es"],
                body=_lesson_body(course, lesson, "es", terms["es"]),
            )
    return hub


def _standard_body(sections, lang: str, key: str) -> str:
    return json.dumps(
        [
            {
                "type": "rich_text",
                "id": _block_id(key, str(index)),
                "value": _rich(*(p[lang] for p in paragraphs), heading=heading[lang]),
            }
            for index, (heading, *paragraphs) in enumerate(sections)
        ]
    )


def seed_standard_pages(home, locales) -> dict:
    from .models import StandardPage

    pages = {}
    for spec in STANDARD_PAGES:
        key = spec["slug"]["en"]
        page = _ensure_en(
            home,
            StandardPage,
            key,
            title=spec["title"]["en"],
            intro=spec["intro"]["en"],
            body=_standard_body(spec["sections"], "en", key),
        )
        _ensure_translation(
            page,
            locales["es"],
            slug=spec["slug"]["es"],
            title=spec["title"]["es"],
            intro=spec["intro"]["es"],
            body=_standard_body(spec["sections"], "es", key),
        )
        pages[key] = page
    return pages


def _story_body(story, lang: str) -> str:
    key = story["slug"]["en"]
    return json.dumps(
        [
            {
                "type": "rich_text",
                "id": _block_id("story", key, "text"),
                "value": _rich(*story["paragraphs"][lang].split("|")),
            },
        ]
    )


def seed_stories(home, locales):
    from portal.models import Territory

    from .models import ReturneeStoryPage, StoryIndexPage

    index = _ensure_en(
        home,
        StoryIndexPage,
        "stories",
        title="Returnee stories",
        intro="<p>People who came back, and what they built with help from abroad.</p>",
    )
    _ensure_translation(
        index,
        locales["es"],
        slug="historias",
        title="Historias de retorno",
        intro="<p>Personas que regresaron y lo que construyeron con ayuda desde fuera.</p>",
    )
    consent = datetime.date(2026, 9, 14)
    for story in STORIES:
        territory = Territory.objects.filter(slug=story["territory"]).first()
        page = _ensure_en(
            index,
            ReturneeStoryPage,
            story["slug"]["en"],
            title=story["title"]["en"],
            person_name=story["person_name"],
            quote=story["quote"]["en"],
            summary=story["summary"]["en"],
            body=_story_body(story, "en"),
            territory=territory,
            consent_given=True,
            consent_recorded_on=consent,
            consent_reference="Signed consent form, Puente operations file",
        )
        _ensure_translation(
            page,
            locales["es"],
            slug=story["slug"]["es"],
            title=story["title"]["es"],
            quote=story["quote"]["es"],
            summary=story["summary"]["es"],
            body=_story_body(story, "es"),
        )
    return index


def seed_territories(home, locales):
    from portal.models import Organization

    from .models import TerritoryIndexPage, TerritoryPage

    index = _ensure_en(
        home,
        TerritoryIndexPage,
        "places",
        title="Places",
        intro="<p>Local governments working with their diaspora: their projects, matching "
        "programmes and bonds.</p>",
    )
    _ensure_translation(
        index,
        locales["es"],
        slug="lugares",
        title="Lugares",
        intro="<p>Gobiernos locales que trabajan con su diáspora: sus proyectos, programas "
        "de contrapartida y bonos.</p>",
    )
    governments = Organization.objects.filter(
        kind=Organization.Kind.LOCAL_GOVERNMENT, territory__isnull=False
    ).select_related("territory")
    for government in governments:
        name = government.territory.name
        _ensure_en(
            index,
            TerritoryPage,
            government.territory.slug,
            title=name,
            territory=government.territory,
            government=government,
            summary=f"{government.name} invites its diaspora to invest in {name}: open "
            "projects, matching programmes and bonds, and what diaspora money has built "
            "so far.",
        )
    return index


def seed_aliases(home, locales) -> int:
    """Every English page without a translation gets an alias in the other
    locales: the page stays reachable at its localized URL, shown in English with
    a notice, until an editor converts the alias and translates it."""
    created = 0
    pages = list(home.get_descendants().filter(locale=locales["en"]).order_by("path"))
    for code, locale in locales.items():
        if code == "en":
            continue
        for page in pages:
            if page.has_translation(locale):
                continue
            parent = page.get_parent()
            if not parent.has_translation(locale):
                continue  # its parent is missing too: the home route falls back
            page.copy_for_translation(locale, alias=True)
            created += 1
    return created


def seed_workflow(hubs) -> None:
    from wagtail.models import GroupApprovalTask, Workflow, WorkflowPage, WorkflowTask

    moderators, _created = Group.objects.get_or_create(name="Moderators")
    workflow, _created = Workflow.objects.get_or_create(name=WORKFLOW_NAME)
    task = GroupApprovalTask.objects.filter(name=APPROVAL_TASK_NAME).first()
    if task is None:
        task = GroupApprovalTask.objects.create(name=APPROVAL_TASK_NAME)
    task.groups.add(moderators)
    WorkflowTask.objects.get_or_create(workflow=workflow, task=task, defaults={"sort_order": 0})
    for hub in hubs:
        WorkflowPage.objects.update_or_create(page=hub, defaults={"workflow": workflow})


def seed_settings(home, pages, hub, stories, places) -> None:
    from wagtail.models import Site

    from .models import HomeFeaturedPage, SiteSettings

    site = (
        Site.objects.filter(root_page=home).first()
        or Site.objects.filter(is_default_site=True).first()
    )
    if site is None:
        return
    settings = SiteSettings.for_site(site)
    if not settings.navigation_links.raw_data:
        settings.navigation_links = json.dumps(
            [
                {"type": "link", "id": _block_id("nav", str(p.pk)), "value": {"page": p.pk}}
                for p in (hub, stories, places)
            ]
        )
    if not settings.footer_links.raw_data:
        settings.footer_links = json.dumps(
            [
                {"type": "link", "id": _block_id("footer", key), "value": {"page": p.pk}}
                for key, p in pages.items()
            ]
        )
    if not settings.risk_warning_url:
        settings.risk_warning_url = pages["risks"].url or ""
    settings.save()
    if not home.featured_pages.exists():
        from .models import CoursePage

        for order, course in enumerate(CoursePage.objects.child_of(hub).live()[:3]):
            HomeFeaturedPage.objects.create(page=home, target=course, sort_order=order)


@transaction.atomic
def seed_cms(stdout=None) -> None:
    """Create the demo CMS content (idempotent). Needs the English home page
    (seed_demo's seed_pages) and, for territory pages, the local governments."""
    from wagtail.models import Locale

    from .models import HomePage

    locales = {
        code: Locale.objects.get_or_create(language_code=code)[0]
        for code in ("en", *TRANSLATED, *NOT_YET_TRANSLATED)
    }
    home = HomePage.objects.filter(locale=locales["en"]).first()
    if home is None:
        _say(stdout, "No English home page: run seed_demo first; CMS content skipped.")
        return
    terms = seed_glossary(locales)
    hub = seed_literacy(home, locales, terms)
    pages = seed_standard_pages(home, locales)
    stories = seed_stories(home, locales)
    places = seed_territories(home, locales)
    aliases = seed_aliases(home, locales)
    seed_workflow([hub, *hub.get_translations()])
    seed_settings(home, pages, hub, stories, places)
    _say(
        stdout,
        f"CMS content ready: {len(COURSES)} courses in English and Spanish, "
        f"{aliases} pages newly marked for translation.",
    )
